"""Offline tooling, never deployed: the `crisiswatch` command, training, experiments, benchmark, evaluation."""
