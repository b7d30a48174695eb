"""``python -m verdict.cli`` runs the command line."""

from verdict.cli._app import main

main()
