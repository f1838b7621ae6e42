"""Agent-vs-agent matches: ``tom_agents.arena.play(lineup, episodes, seeds)`` and ``tom-arena``."""

from .match import ArenaResult, play
from .report import write_outputs

__all__ = ["ArenaResult", "play", "write_outputs"]
