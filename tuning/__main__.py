"""`python -m tuning train|eval ...` (see tuning/cli.py)."""
from tuning.cli import cli

raise SystemExit(cli())
