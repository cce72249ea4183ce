"""`python -m netwarden` runs the `netwarden` command."""

from .cli import main

main()
