"""Leaves valued by goal-directed rollouts (the planner option ``leaf_value="rollout"``).

With 16-200 simulations, prey beyond the search horizon is invisible to a value net that knows
little (``benchmarks/results/hop_diagnosis.md``). A rollout plays the episode out from the leaf
instead: every co-player walks a shortest path to the nearest prey of the goal its tree sampled
and hunts it there (:class:`~tom_agents.opponents.ScriptedOpponents` without noise), or, sampled
as a wanderer (``wanderer_model="random"``), takes random legal actions; and the focal player
does the same for a goal of its own. Both of the focal's goals are played out and the leaf is
worth the better discounted return: the stag only where co-players the tree believes in come to
hunt it, so the beliefs, not the net, decide which prey is worth walking to.

Randomness (ties between shortest paths) comes from streams keyed by each leaf's own seed.
"""

from __future__ import annotations

import numpy as np

from staghunt_env import GameState, StagHuntConfig
from staghunt_env.observe import observe
from staghunt_env.rules import step as rules_step
from staghunt_env.spec import NUM_ACTIONS, NUM_GOALS

from ..opponents import ScriptedOpponents
from ..search import stream_uniforms
from .kinds import act_probs

_WALKER = ScriptedOpponents(epsilon=0.0)


def rollout_values(
    config: StagHuntConfig,
    states: GameState,
    focal: np.ndarray,
    goals: np.ndarray,
    gamma: float,
    seeds: np.ndarray,
) -> np.ndarray:
    """(M,) the focal's value of M states: the best over its goals of the discounted return of a
    scripted walk to the episode's end (``goals`` (M, N-1): the co-players' goals by seat)."""
    m = states.batch_size
    both = GameState.concatenate([states, states])  # the focal after the stag, then the hare
    focal_goal = np.repeat(np.arange(NUM_GOALS), m)
    returns = _walk(
        config,
        both,
        np.tile(focal, NUM_GOALS),
        np.concatenate([focal_goal[:, None], np.tile(goals, (NUM_GOALS, 1))], axis=1),
        gamma,
        np.tile(seeds, NUM_GOALS) + focal_goal.astype(np.uint64),
    )
    return returns.reshape(NUM_GOALS, m).max(0)


def _walk(config, states, focal, goals, gamma, seeds) -> np.ndarray:
    """Discounted return of the focal when seat k (the focal is seat 0) walks to goal
    ``goals[:, k]``; a row stops when the focal leaves or the episode ends (dropped from the
    batch, so a short walk costs only its own steps)."""
    n = config.num_players
    value = np.zeros(states.batch_size)
    index = np.arange(states.batch_size)  # the rows still walking
    seats = (focal[:, None] + np.arange(n)) % n  # seat k -> player
    for step in range(config.max_cycles + 1):
        live = ~states.over & states.alive[np.arange(len(index)), seats[:, 0]]
        if not live.all():
            keep = np.flatnonzero(live)
            states, index, seats, goals = states.select(keep), index[keep], seats[keep], goals[keep]
            seeds = seeds[keep]
        if not len(index):
            break
        rows = np.arange(len(index))
        obs, masks = observe(states)
        views, view_masks = obs[rows[:, None], seats], masks[rows[:, None], seats]
        probs = act_probs(_WALKER.probs(views, states.t, view_masks), view_masks, goals)
        u = stream_uniforms(seeds, step, n)
        actions = (probs.cumsum(-1) < u[..., None] * probs.sum(-1, keepdims=True)).sum(-1)
        joint = np.empty((len(index), n), dtype=np.int64)
        joint[rows[:, None], seats] = np.minimum(actions, NUM_ACTIONS - 1)
        reward = rules_step(config, states, joint, inplace=True)[1][rows, seats[:, 0]]
        value[index] += gamma**step * reward
    return value
