"""Self-play training of HOP agents: ``tom-selfplay`` / ``python -m tom_agents.selfplay``."""

from .config import SelfPlayConfig, load_config, preset
from .train import Trainer, load_agent, train

__all__ = ["SelfPlayConfig", "Trainer", "load_agent", "load_config", "preset", "train"]
