"""The runtime of a local Lambda container: `bootstrap.py`, run as a script."""
