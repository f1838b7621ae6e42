"""Agents for the Markov Stag Hunt: scripted co-players and theory-of-mind (HOP) planners.

They need the training stack (torch and friends), an extra of the package:
``pip install "staghunt-tom[agents]"``. The environment alone (``staghunt_env``) does not.
"""

from functools import partial

from . import _requirements  # noqa: F401  (first: names the missing extra before torch fails)
from .agents.scripted import NearestPreyAgent, RandomAgent
from .loading import load_agent
from .planner import HOP_PLUS, PlannerAgent, PlannerOptions, act_batch
from .registry import Agent, make_agent, register_agent, registered_agents
from .runner import note_catches

register_agent("random", RandomAgent)
register_agent("nearest_stag", partial(NearestPreyAgent, goals=("stag",)))
register_agent("nearest_hare", partial(NearestPreyAgent, goals=("hare",)))
register_agent("nearest_prey", NearestPreyAgent)
register_agent("hop", PlannerAgent)
register_agent("hop_plus", partial(PlannerAgent, **HOP_PLUS))
register_agent("direct_om", partial(PlannerAgent, opponent_model="goal_free"))
register_agent("mcts", partial(PlannerAgent, opponent_model="uniform"))


def _ppo(env_config, seed=None, checkpoint=None, device="auto", deterministic=False):
    """PPO agents need Stable-Baselines3, imported only when one is made."""
    from .ppo import PPOAgent

    return PPOAgent(env_config, seed, checkpoint, device, deterministic)


register_agent("ppo", _ppo)

__all__ = [
    "Agent",
    "PlannerAgent",
    "PlannerOptions",
    "act_batch",
    "load_agent",
    "make_agent",
    "note_catches",
    "register_agent",
    "registered_agents",
]
