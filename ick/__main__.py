"""`python -m ick` runs the command-line tool."""

from ick.cli.main import main

main()
