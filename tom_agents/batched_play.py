"""Many games of agents at once: joint decisions and catch bookkeeping over a BatchedStagHunt.

Shared by self-play, its evaluation and the arena. Agents whose class offers a static
``act_batch(agents, observations, infos)`` (the planners, PPO) are decided together, one call
per such class; any other agent acts one by one through the plain Agent protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from staghunt_env import HUNT_STAG, STAY, BatchedStagHunt

from .registry import Agent

NOTHING, STAG, HARE = -1, 0, 1
CATCH_NAMES = {NOTHING: "nothing", STAG: "stag", HARE: "hare"}


def act_all(
    agents: Sequence[Agent],
    observations: Sequence[Mapping[str, Any]],
    infos: Sequence[Mapping[str, Any]],
) -> list[int]:
    """Every agent's action; agents with a common ``act_batch`` are decided in one call."""
    actions: list[int] = [0] * len(agents)
    groups: dict[Any, list[int]] = {}
    for i, agent in enumerate(agents):
        batch = getattr(type(agent), "act_batch", None)
        if batch is None:
            actions[i] = int(agent.act(observations[i], infos[i]))
        else:
            groups.setdefault(batch, []).append(i)
    for batch, members in groups.items():
        chosen = batch(
            [agents[i] for i in members],
            [observations[i] for i in members],
            [infos[i] for i in members],
        )
        for i, action in zip(members, chosen):
            actions[i] = int(action)
    return actions


def decide(
    games: BatchedStagHunt, players: Sequence[Sequence[Agent]], obs, mask, skip=None
) -> tuple[np.ndarray, np.ndarray]:
    """Every live player's action, batched by :func:`act_all`.

    Returns the joint action (B, N) (STAY for players out of the game) and the (game, seat)
    pairs that acted. ``skip`` (B,) bool leaves whole games out.
    """
    state = games.state
    acting = state.alive & ~state.over[:, None]
    if skip is not None:
        acting &= ~skip[:, None]
    live = np.argwhere(acting)
    actions = act_all(
        [players[g][i] for g, i in live],
        [{"observation": obs[g, i], "action_mask": mask[g, i]} for g, i in live],
        [{"t": int(state.t[g])} for g, _ in live],
    )
    joint = np.full(state.alive.shape, STAY, dtype=np.int64)
    joint[live[:, 0], live[:, 1]] = actions
    return joint, live


def caught_in_step(games: BatchedStagHunt, playing: np.ndarray, joint: np.ndarray) -> np.ndarray:
    """(B, N): what each player caught in the step just taken (STAG, HARE or NOTHING).

    Only a catch takes a hunter off the grid (hunters still in at the end stay on it), so the
    catchers are the players who were ``playing`` before the step and are gone after it; their
    hunt action says what they caught. Games that ended were restarted already: their final
    grids are read instead.
    """
    still_in = games.state.alive.copy()
    ended = games.episode_ended
    n = still_in.shape[1]
    still_in[ended] = games.final_grid[ended][..., :n].any(axis=(1, 2))
    caught = np.full(still_in.shape, NOTHING)
    gone = playing & ~still_in
    caught[gone] = joint[gone] - HUNT_STAG
    return caught
