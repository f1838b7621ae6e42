"""Agent specs of a lineup: registry names, ``ppo:PATH`` and ``checkpoint:PATH``, made into agents.

A spec becomes a *source*: ``source(seat, seed) -> Agent``, called once per seat and match.
Planners of one spec share their networks across matches (one owner, a follower per seat and
match), so that their decisions are searched in the same waves; the networks stay frozen in
the arena (``learn_opponents=False``), and what an agent carries from episode to episode of a
match is its own beliefs about its co-players.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from staghunt_env import StagHuntConfig
from staghunt_env.config import check_same_config

from ..loading import load_planners
from ..planner import PlannerAgent
from ..registry import Agent, make_agent, registered_agents

Source = Callable[[int, int], Agent]


def checkpoint_config(spec: str) -> StagHuntConfig | None:
    """The env configuration a ``ppo:``/``checkpoint:`` spec was trained for (None for names)."""
    kind, _, path = spec.partition(":")
    if kind == "checkpoint":
        return load_planners(path, "cpu")[0]
    if kind == "ppo":
        from ..ppo import checkpoint_env_config

        return checkpoint_env_config(path)
    return None


def agent_source(
    spec: str,
    env_config: StagHuntConfig,
    device: str = "auto",
    planner_options: Mapping[str, Any] | None = None,
    network_seed: int = 0,
) -> Source:
    """How to make the agents of ``spec`` for ``env_config``; ValueError for an unknown spec.

    ``planner_options`` change how planners plan (e.g. ``num_simulations``; a planner checkpoint
    brings its own options, these go on top) and are ignored by other agents;
    ``network_seed`` seeds the networks of untrained planners made by name.
    """
    changes = {**(planner_options or {}), "learn_opponents": False}
    kind, _, path = spec.partition(":")
    if kind == "ppo" and path:
        return lambda seat, seed: make_agent(
            "ppo", env_config, seed=seed, device=device, checkpoint=path
        )
    if kind == "checkpoint" and path:
        config, owners = load_planners(path, device)
        check_same_config(env_config, config.to_dict(), f"{path} was trained for")
        return lambda seat, seed: owners[0 if len(owners) == 1 else seat].follower(seed, **changes)
    if spec not in registered_agents():
        raise ValueError(
            f"unknown agent spec {spec!r}: use a registered name {registered_agents()}, "
            "'ppo:PATH' or 'checkpoint:PATH'"
        )
    probe = make_agent(spec, env_config, seed=network_seed)
    if isinstance(probe, PlannerAgent):
        probe.to(device)
        return lambda seat, seed: probe.follower(seed, **changes)
    return lambda seat, seed: make_agent(spec, env_config, seed=seed)
