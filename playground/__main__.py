"""`python -m playground …`: the command line (playground/cli.py)."""

from playground.cli import main

raise SystemExit(main())
