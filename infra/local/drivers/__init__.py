"""What `crisiswatch demo` and `crisiswatch replay` run: drivers that print for a person and check every step."""
