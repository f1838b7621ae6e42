"""Trained agents from checkpoint files, whatever wrote them: ``tom_agents.load_agent(path)``.

Every file is opened through :mod:`tom_agents.checkpoints`, which reads data only: a checkpoint
cannot run code, and a file that is not one of ours is refused by name.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from staghunt_env import StagHuntConfig

from . import checkpoints
from .planner import PlannerAgent, PlannerOptions
from .registry import Agent


def load_planners(
    path: str | os.PathLike, device: str = "auto"
) -> tuple[StagHuntConfig, list[PlannerAgent]]:
    """(game, network owners) of a planner checkpoint (one owner) or a self-play checkpoint (one
    per seat, or one shared by every seat)."""
    kind, state = checkpoints.load(path, (checkpoints.PLANNER, checkpoints.SELFPLAY))
    if kind == checkpoints.PLANNER:
        config = StagHuntConfig.make(**state["env_config"])
        options = dataclasses.asdict(PlannerOptions.from_dict(state["options"]))
        agent = PlannerAgent(config, device=device, **options)
        agent.load_state_dict(state, f"checkpoint {path}")
        return config, [agent]
    run = state["config"]  # a self-play run's configuration, as plain data
    config = StagHuntConfig.make(**run["env"])
    options = dataclasses.asdict(PlannerOptions.from_dict(run["planner"]))
    owners = []
    for saved in state["owners"]:
        owner = PlannerAgent(config, device=device, **options)
        owner.networks.load_state_dict(saved["networks"])
        owners.append(owner)
    return config, owners


def load_agent(
    path: str | os.PathLike,
    seat: int = 0,
    seed: int | None = None,
    device: str = "auto",
    **options: Any,
) -> Agent:
    """The agent in a checkpoint: a saved planner, the planner trained for ``seat`` in a self-play
    run, or a PPO policy. ``options`` change how a planner plans (e.g. ``num_simulations``), and
    may swap its opponent model for one without networks (``opponent_model="scripted"``: the
    trained policy-value net planning against scripted co-players)."""
    if checkpoints.peek(path) == checkpoints.PPO:
        from .ppo import PPOAgent, checkpoint_env_config

        return PPOAgent(checkpoint_env_config(path), seed, path, device)
    config, owners = load_planners(path, device)
    if not 0 <= seat < config.num_players:
        raise ValueError(f"seat must be in 0..{config.num_players - 1}, got {seat}")
    owner = owners[seat if len(owners) > 1 else 0]
    have = owner.options
    model = options.pop("opponent_model", have.opponent_model)
    epsilon = options.pop("scripted_epsilon", have.scripted_epsilon)
    if epsilon != have.scripted_epsilon and model != "scripted":
        raise ValueError("scripted_epsilon applies to opponent_model='scripted' only")
    if (model, epsilon) != (have.opponent_model, have.scripted_epsilon):
        owner = owner.with_opponent_model(model, seed, scripted_epsilon=epsilon)
    return owner.follower(seed, **options)
