"""``python -m tom_agents.selfplay``: the same as the ``tom-selfplay`` command."""

from .cli import main

main()
