"""The crisiswatch CDK app: `infra.app.build_app()` / `python -m infra.app` (see docs/infra.md)."""
