"""Agents for the Markov Stag Hunt: scripted co-players today, theory-of-mind planners to come."""

from functools import partial

from .agents.scripted import NearestPreyAgent, RandomAgent
from .registry import Agent, make_agent, register_agent, registered_agents

register_agent("random", RandomAgent)
register_agent("nearest_stag", partial(NearestPreyAgent, goals=("stag",)))
register_agent("nearest_hare", partial(NearestPreyAgent, goals=("hare",)))
register_agent("nearest_prey", NearestPreyAgent)

__all__ = ["Agent", "make_agent", "register_agent", "registered_agents"]
