"""THE game: the rules of the Markov Stag Hunt, written once.

State in, state out, on arrays with a leading batch axis, so one game and 4096 games run the
same code: the PettingZoo envs use a batch of one, the batched engine and the planner use many.
The loops are compiled with numba (the rules branch per agent and per prey, which does not
vectorize well in numpy); everything here is deterministic except :func:`reset`, whose
randomness comes from the caller's ``numpy.random.Generator``.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Sequence
from typing import Any

import numba
import numpy as np

from . import random_layouts
from .config import StagHuntConfig
from .spec import (  # re-exported: callers import the action names from here too
    ACTION_NAMES,
    CAUGHT_HARE,
    CAUGHT_NOTHING,
    CAUGHT_STAG,
    DOWN,
    GOAL_STAG,
    HUNT_HARE,
    HUNT_STAG,
    LEFT,
    MOVE_DC,
    MOVE_DR,
    MOVES,
    NUM_ACTIONS,
    NUM_GOALS,
    NUM_MOVES,
    RIGHT,
    STAY,
    UP,
)

__all__ = [
    "ACTION_NAMES",
    "DOWN",
    "HUNT_HARE",
    "HUNT_STAG",
    "LEFT",
    "MOVES",
    "NUM_ACTIONS",
    "PARALLEL_FROM",
    "RIGHT",
    "STAY",
    "UP",
    "GameState",
    "initial_state",
    "reset",
    "step",
]


@dataclasses.dataclass
class GameState:
    """B games as arrays. Prey and blocks never move; the rest changes every step.

    ``alive[b, i]``: player i is still in game b (it leaves when it catches something).
    ``over[b]``: game b has ended (all players caught, time ran out, or nothing catchable left);
    players still standing at the end keep ``alive`` so the final picture shows them.
    """

    blocks: np.ndarray  # (B, H, W) bool
    pos: np.ndarray  # (B, N, 2) int16, (row, col)
    alive: np.ndarray  # (B, N) bool
    stag_pos: np.ndarray  # (B, S, 2) int16
    stag_alive: np.ndarray  # (B, S) bool
    hare_pos: np.ndarray  # (B, R, 2) int16
    hare_alive: np.ndarray  # (B, R) bool
    t: np.ndarray  # (B,) int32, steps taken
    first_hunt: np.ndarray  # (B,) int32, t of the first catch, -1 before it
    over: np.ndarray  # (B,) bool

    @classmethod
    def zeros(cls, config: StagHuntConfig, batch: int) -> GameState:
        n, s, r = config.num_players, config.num_stags, config.num_hares
        return cls(
            blocks=np.zeros((batch, *config.grid_size), dtype=bool),
            pos=np.zeros((batch, n, 2), dtype=np.int16),
            alive=np.zeros((batch, n), dtype=bool),
            stag_pos=np.zeros((batch, s, 2), dtype=np.int16),
            stag_alive=np.zeros((batch, s), dtype=bool),
            hare_pos=np.zeros((batch, r, 2), dtype=np.int16),
            hare_alive=np.zeros((batch, r), dtype=bool),
            t=np.zeros(batch, dtype=np.int32),
            first_hunt=np.full(batch, -1, dtype=np.int32),
            over=np.ones(batch, dtype=bool),
        )

    @classmethod
    def concatenate(cls, states: Sequence[GameState]) -> GameState:
        """One batch of all the games of ``states``, in order."""
        return cls(
            **{k: np.concatenate([getattr(s, k) for s in states]) for k in states[0].arrays()}
        )

    @property
    def batch_size(self) -> int:
        return self.t.shape[0]

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def copy(self) -> GameState:
        return GameState(**{k: v.copy() for k, v in self.arrays().items()})

    def select(self, index: Any) -> GameState:
        """Gather games (an index array, slice or mask) into a new, independent state."""
        index = as_batch_index(index)
        return GameState(**{k: v[index].copy() for k, v in self.arrays().items()})

    def assign(self, index: Any, other: GameState) -> None:
        """Scatter ``other``'s games into positions ``index`` of this state, in place."""
        index = as_batch_index(index)
        for k, v in self.arrays().items():
            v[index] = getattr(other, k)


def as_batch_index(index: Any) -> Any:
    """An index that keeps the batch axis (an int becomes a one-element array)."""
    if isinstance(index, (int, np.integer)):
        return np.array([index])
    return index


def reset(
    config: StagHuntConfig, state: GameState, rng: np.random.Generator, games: Any = None
) -> None:
    """Start new episodes in place for ``games`` (default: all); randomness only from ``rng``."""
    games = np.arange(state.batch_size) if games is None else np.asarray(games).reshape(-1)
    if games.dtype == bool:
        games = np.flatnonzero(games)
    if config.layout is not None:
        lay = config.layout
        state.blocks[games] = lay.blocks
        state.pos[games] = lay.players
        state.stag_pos[games] = lay.stags
        state.hare_pos[games] = lay.hares
    else:
        random_layouts.draw(
            rng,
            games,
            config.max_block_components,
            state.blocks,
            state.pos,
            state.stag_pos,
            state.hare_pos,
        )
    state.alive[games] = True
    state.stag_alive[games] = True
    state.hare_alive[games] = True
    state.t[games] = 0
    state.first_hunt[games] = -1
    state.over[games] = False


def initial_state(config: StagHuntConfig, rng: np.random.Generator, batch: int = 1) -> GameState:
    """A fresh batch of games (functional form of :func:`reset`)."""
    state = GameState.zeros(config, batch)
    reset(config, state, rng)
    return state


# --------------------------------------------------------------------------- one step


@numba.njit(cache=True)
def entities_fit(pos, alive, stag_pos, stag_alive, hare_pos, hare_alive):
    """Do the entity arrays agree with ``alive`` (B, N) on the games and with each other? Every
    kernel checks this once per call, as they index without bounds checks."""
    b, n = alive.shape
    return (
        pos.shape == (b, n, 2)
        and stag_pos.shape[0] == b
        and stag_pos.shape[2] == 2
        and stag_alive.shape == stag_pos.shape[:2]
        and hare_pos.shape[0] == b
        and hare_pos.shape[2] == 2
        and hare_alive.shape == hare_pos.shape[:2]
    )


def _step_games(
    blocks,
    pos,
    alive,
    stag_pos,
    stag_alive,
    hare_pos,
    hare_alive,
    t,
    first_hunt,
    over,
    actions,
    strength,
    stag_reward,
    hare_reward,
    time_reward,
    prosocial,
    max_cycles,
    end_after,
    rewards,
    terminated,
    truncated,
    caught,
):
    """The kernel of :func:`step`; ``caught[b, i]`` gets the Catch code of what player i caught."""
    n_games, n = alive.shape
    h, w = blocks.shape[1], blocks.shape[2]
    if not (
        entities_fit(pos, alive, stag_pos, stag_alive, hare_pos, hare_alive)
        and blocks.shape[0] == n_games
        and t.shape[0] == n_games
        and first_hunt.shape[0] == n_games
        and over.shape[0] == n_games
        and actions.shape == alive.shape
        and rewards.shape == alive.shape
        and terminated.shape == alive.shape
        and truncated.shape == alive.shape
        and caught.shape == alive.shape
        and strength.shape[0] >= n
    ):
        raise ValueError("rules.step: the arrays' shapes do not fit one another")
    for b in numba.prange(n_games):
        live_at_start = 0
        for i in range(n):
            rewards[b, i] = 0.0
            terminated[b, i] = False
            truncated[b, i] = False
            caught[b, i] = CAUGHT_NOTHING
            if alive[b, i] and not over[b]:
                live_at_start += 1
        if live_at_start == 0:
            continue
        # 1. moves (illegal moves run as STAY)
        for i in range(n):
            a = actions[b, i]
            if alive[b, i] and 0 <= a < NUM_MOVES:  # a < 0 would index MOVE_DR out of bounds
                nr, nc = pos[b, i, 0] + MOVE_DR[a], pos[b, i, 1] + MOVE_DC[a]
                if 0 <= nr < h and 0 <= nc < w and not blocks[b, nr, nc]:
                    pos[b, i, 0], pos[b, i, 1] = nr, nc
        any_catch = False
        # bit i: player i caught a stag; caught[] is written at step 4, as a store in the prey
        # loop below made the whole kernel ~10% slower
        stag_catchers = 0
        # 2. stags: a group of two or more HUNT_STAG on the cell catches it, split by strength;
        # 3. hares: one HUNT_HARE on the cell catches it, split equally if several hunt it together
        for goal in range(NUM_GOALS):
            is_stag = goal == GOAL_STAG
            prey_pos = stag_pos if is_stag else hare_pos
            prey_alive = stag_alive if is_stag else hare_alive
            hunt = HUNT_STAG if is_stag else HUNT_HARE
            for k in range(prey_pos.shape[1]):
                if not prey_alive[b, k]:
                    continue
                hunters, count, total = 0, 0, 0.0
                for i in range(n):
                    if (
                        alive[b, i]
                        and actions[b, i] == hunt
                        and pos[b, i, 0] == prey_pos[b, k, 0]
                        and pos[b, i, 1] == prey_pos[b, k, 1]
                    ):
                        hunters |= 1 << i
                        count += 1
                        total += strength[i]
                if count < (2 if is_stag else 1):
                    continue
                prey_alive[b, k] = False
                any_catch = True
                if is_stag:
                    stag_catchers |= hunters
                for i in range(n):
                    if (hunters >> i) & 1:
                        if is_stag:
                            share = strength[i] / total if total > 0 else 1.0 / count
                            rewards[b, i] += stag_reward * share
                        else:
                            rewards[b, i] += hare_reward / count
                        terminated[b, i] = True
        # 5./6. time reward to everyone live at the start; prosocial: everyone gets the mean
        mean = 0.0
        for i in range(n):
            if alive[b, i]:
                rewards[b, i] += time_reward
                mean += rewards[b, i]
        if prosocial:
            mean /= live_at_start
            for i in range(n):
                if alive[b, i]:
                    rewards[b, i] = mean
        # 4. catchers leave, with what they caught (those not in stag_catchers caught a hare)
        remaining = 0
        for i in range(n):
            if terminated[b, i]:
                alive[b, i] = False
                caught[b, i] = CAUGHT_STAG if (stag_catchers >> i) & 1 else CAUGHT_HARE
            elif alive[b, i]:
                remaining += 1
        t[b] += 1
        if any_catch and first_hunt[b] < 0:
            first_hunt[b] = t[b]
        # 7. the end: nothing left to catch (termination) or out of time (truncation)
        stags_left, hares_left = 0, 0
        for k in range(stag_pos.shape[1]):
            stags_left += stag_alive[b, k]
        for k in range(hare_pos.shape[1]):
            hares_left += hare_alive[b, k]
        catchable = (hares_left > 0 and remaining >= 1) or (stags_left > 0 and remaining >= 2)
        out_of_time = t[b] >= max_cycles or (
            end_after >= 0 and 0 <= first_hunt[b] <= t[b] - end_after
        )
        if remaining == 0 or not catchable or out_of_time:
            over[b] = True
            for i in range(n):
                if alive[b, i]:
                    terminated[b, i] = not catchable
                    truncated[b, i] = catchable


def compile_twice(fn: Any) -> tuple[Any, Any]:
    """A serial and a parallel (``prange``) compilation of ``fn``, cached under two names.

    numba's cache key ignores the ``parallel`` flag: under one name, whichever compilation was
    cached first would be loaded for both, so small batches paid the thread pool's start-up
    (about 1 us a call) or big ones ran on one core, depending on the cache's history.
    """
    twin = types.FunctionType(
        fn.__code__, fn.__globals__, f"{fn.__name__}_parallel", fn.__defaults__, fn.__closure__
    )
    twin.__qualname__ = f"{fn.__qualname__}_parallel"
    return numba.njit(cache=True)(fn), numba.njit(cache=True, parallel=True)(twin)


# One source, two compilations: big batches spread games over the cores.
PARALLEL_FROM = 512
_step_serial, _step_parallel = compile_twice(_step_games)


def use_parallel(games: int) -> bool:
    """Parallel kernels for a big batch, and only with more than one numba thread (one, as
    ``tom_agents.threads`` sets, means no parallel region waiting on a thread the OS lent out)."""
    return games >= PARALLEL_FROM and numba.get_num_threads() > 1


def step(
    config: StagHuntConfig,
    state: GameState,
    actions: np.ndarray,
    *,
    inplace: bool = False,
    out: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[GameState, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Advance every game one step: (state, actions[B, N]) -> (state', rewards, terminated,
    truncated, caught), all (B, N).

    ``terminated``/``truncated`` mark the players whose episode ended in this step. ``caught``
    (int8) holds the :class:`~staghunt_env.spec.Catch` code of what each player caught in this
    step: STAG or HARE for the hunters that took part in a catch, NOTHING for everyone else (a
    failed hunt, a prosocial share of someone else's catch). Finished games (``state.over``)
    and departed players are left alone, get zero reward and catch NOTHING. With
    ``inplace=True`` the state is updated in place, and ``out`` buffers (rewards, terminated,
    truncated, caught) avoid allocation.
    """
    if not inplace:
        state = state.copy()
    batch, n = state.alive.shape
    if out is None:
        out = (
            np.zeros((batch, n), dtype=np.float32),
            np.zeros((batch, n), dtype=bool),
            np.zeros((batch, n), dtype=bool),
            np.empty((batch, n), dtype=np.int8),
        )
    rewards, terminated, truncated, caught = out
    kernel = _step_parallel if use_parallel(batch) else _step_serial
    kernel(
        *state.arrays().values(),
        actions,
        config.strength,
        config.stag_reward,
        config.hare_reward,
        config.time_reward,
        config.prosocial,
        config.max_cycles,
        -1 if config.end_after_first_hunt is None else config.end_after_first_hunt,
        rewards,
        terminated,
        truncated,
        caught,
    )
    return state, rewards, terminated, truncated, caught
