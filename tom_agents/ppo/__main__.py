"""``python -m tom_agents.ppo``: the same as the ``tom-train-ppo`` command."""

from .train import main

main()
