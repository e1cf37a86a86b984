"""Training, evaluation, experiments and the benchmark of the scorer (offline; the scorer itself is crisiswatch.scoring)."""
