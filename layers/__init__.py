"""Lambda layers: what goes into them and how they are built without Docker (see build.py)."""
