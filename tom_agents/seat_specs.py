"""Seat specs, the one way every command names an agent, made into agents.

A spec is a registered name (``hop``, an installed plug-in's name), ``module:factory`` (a factory
importable from ``sys.path``), ``ppo:PATH`` (a ``tom-train-ppo`` checkpoint) or
``checkpoint:PATH`` (a planner or self-play checkpoint). It becomes a *source*:
``source(seat, seed) -> Agent``, called once per seat and match. Planners of one spec share
their networks across matches (one owner, a follower per seat and match), so that their
decisions are searched in the same waves; the networks stay frozen
(``learn_opponents=False``), and what an agent carries from episode to episode of a match is
its own beliefs about its co-players.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from staghunt_env import StagHuntConfig
from staghunt_env.config import check_same_config, config_from

from .loading import load_planners
from .planner import PlannerAgent
from .registry import Agent, UnknownAgentError, make_agent, registered_agents

Source = Callable[[int, int], Agent]
SPEC_FORMS = "an agent name, module:factory, ppo:PATH or checkpoint:PATH"


def spec_help() -> str:
    """What a seat spec may be, with every agent name known now (plug-ins included)."""
    return (
        f"one agent per seat: {SPEC_FORMS}. Agent names: {', '.join(registered_agents())}. "
        "module:factory calls factory(env_config=..., seed=...) from module (looked up on "
        "sys.path and in the current folder)."
    )


def short_name(spec: str) -> str:
    """``spec`` for tables, legends and GIF captions: a checkpoint by its file's stem."""
    kind, _, path = spec.partition(":")
    return f"{kind}:{Path(path).stem}" if kind in ("ppo", "checkpoint") and path else spec


def checkpoint_config(spec: str) -> StagHuntConfig | None:
    """The env configuration a ``ppo:``/``checkpoint:`` spec was trained for (None for others)."""
    kind, _, path = spec.partition(":")
    if kind == "checkpoint":
        return load_planners(path, "cpu")[0]
    if kind == "ppo":
        from .ppo import checkpoint_env_config

        return checkpoint_env_config(path)
    return None


def lineup_config(lineup: list[str], env_config: Any) -> StagHuntConfig:
    """The game of a lineup: given (as many hunters as seats, unless said otherwise), or the
    checkpoints' (they must agree), or the default game."""
    if (
        isinstance(env_config, Mapping)
        and "num_players" not in env_config
        and "layout" not in env_config
    ):
        env_config = {**env_config, "num_players": len(lineup)}
    if env_config is not None:
        config = config_from(env_config)
    else:
        trained = [c for c in map(checkpoint_config, dict.fromkeys(lineup)) if c is not None]
        config = trained[0] if trained else StagHuntConfig.make(num_players=len(lineup))
    if config.num_players != len(lineup):
        raise ValueError(
            f"the lineup has {len(lineup)} agents but the game has {config.num_players} hunters"
        )
    return config


def agent_source(
    spec: str,
    env_config: StagHuntConfig,
    device: str = "auto",
    planner_options: Mapping[str, Any] | None = None,
    network_seed: int = 0,
) -> Source:
    """How to make the agents of ``spec`` for ``env_config``; a ValueError says what is wrong
    with the spec (unknown name, module or attribute not found, a factory that is not callable
    or makes no agent).

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
    try:
        probe = make_agent(spec, env_config, seed=network_seed)
    except UnknownAgentError as e:
        raise UnknownAgentError(
            f"unknown agent spec {spec!r}: use {SPEC_FORMS}; agent names: {registered_agents()}"
        ) from e
    if isinstance(probe, PlannerAgent):
        probe.to(device)
        return lambda seat, seed: probe.follower(seed, **changes)
    return lambda seat, seed: make_agent(spec, env_config, seed=seed)
