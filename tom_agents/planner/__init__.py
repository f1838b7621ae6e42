"""The HOP planner in parts: options, shared networks, per-seat beliefs, opponent-model learning,
the stag-hunt model for the search, rollouts, and the thin agent."""

from .agent import HOP_PLUS, PlannerAgent, act_batch
from .options import PlannerOptions

__all__ = ["HOP_PLUS", "PlannerAgent", "PlannerOptions", "act_batch"]
