"""Self-play training of HOP agents: ``tom-selfplay`` / ``python -m tom_agents.selfplay``.

The trained agents of a run: ``tom_agents.load_agent(checkpoint, seat=i)``.
"""

from .config import SelfPlayConfig, load_config, preset
from .train import Trainer, train

__all__ = ["SelfPlayConfig", "Trainer", "load_config", "preset", "train"]
