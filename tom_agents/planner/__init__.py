"""The HOP planner in parts: options, shared networks, per-seat beliefs, opponent-model learning,
the stag-hunt model for the search, and the thin agent."""

from .agent import PlannerAgent, act_batch
from .options import PlannerOptions

__all__ = ["PlannerAgent", "PlannerOptions", "act_batch"]
