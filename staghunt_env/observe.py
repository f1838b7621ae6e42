"""What agents see: observations, action masks and the global state grid, from a GameState.

Channel k < N of agent i's grid holds player (i + k) mod N (the observer first, then the others
in cyclic order); channel N holds blocks, N + 1 stags, N + 2 hares (see :mod:`.spec`).
"""

from __future__ import annotations

import functools

import numba
import numpy as np

from .config import StagHuntConfig
from .rules import GameState, compile_twice, entities_fit, use_parallel
from .spec import (
    HARE_OFFSET,
    HUNT_HARE,
    HUNT_STAG,
    MOVE_DC,
    MOVE_DR,
    NUM_ACTIONS,
    NUM_MOVES,
    NUM_OBJECT_CHANNELS,
    STAG_OFFSET,
    STAY,
    WALL_OFFSET,
    num_channels,
)

# The kernels loop per game with no helper calls in the inner loops: passing arrays to a
# numba function costs reference counting per call, which dominated these small loops.


def _views_games(
    games, zero_departed, blocks, pos, alive, stag_pos, stag_alive, hare_pos, hare_alive, out
):
    """Write the grids of the listed games for observers 0..out.shape[1]-1 (rotated to each).

    Rows outside the batch and entities outside the grid are skipped, never written.
    """
    h, w = blocks.shape[1], blocks.shape[2]
    batch, n = alive.shape
    if not (
        entities_fit(pos, alive, stag_pos, stag_alive, hare_pos, hare_alive)
        and blocks.shape[0] == batch
        and out.shape[0] == batch
        and out.shape[1] <= n
        and out.shape[2:4] == (h, w)
        and out.shape[4] >= n + NUM_OBJECT_CHANNELS
    ):
        raise ValueError("observe: the arrays' shapes do not fit one another")
    for gi in numba.prange(games.shape[0]):
        b = games[gi]
        if b < 0 or b >= batch:
            continue
        for i in range(out.shape[1]):
            out[b, i] = 0
            if zero_departed and not alive[b, i]:
                continue
            for k in range(n):
                j = (i + k) % n
                r, c = pos[b, j, 0], pos[b, j, 1]
                if alive[b, j] and 0 <= r < h and 0 <= c < w:
                    out[b, i, r, c, k] = 1
            for r in range(h):  # a store, not a branch: walls are random
                for c in range(w):
                    out[b, i, r, c, n + WALL_OFFSET] = blocks[b, r, c]
            for k in range(stag_pos.shape[1]):
                r, c = stag_pos[b, k, 0], stag_pos[b, k, 1]
                if stag_alive[b, k] and 0 <= r < h and 0 <= c < w:
                    out[b, i, r, c, n + STAG_OFFSET] = 1
            for k in range(hare_pos.shape[1]):
                r, c = hare_pos[b, k, 0], hare_pos[b, k, 1]
                if hare_alive[b, k] and 0 <= r < h and 0 <= c < w:
                    out[b, i, r, c, n + HARE_OFFSET] = 1


def _masks_games(games, blocks, pos, alive, over, stag_pos, stag_alive, hare_pos, hare_alive, mask):
    """Legal actions of every player of the listed games (STAY only once out or game over)."""
    h, w = blocks.shape[1], blocks.shape[2]
    if not (
        entities_fit(pos, alive, stag_pos, stag_alive, hare_pos, hare_alive)
        and blocks.shape[0] == alive.shape[0]
        and over.shape[0] == alive.shape[0]
        and mask.shape == (alive.shape[0], alive.shape[1], NUM_ACTIONS)
    ):
        raise ValueError("observe: the mask's or the state's shapes do not fit one another")
    for gi in numba.prange(games.shape[0]):
        b = games[gi]
        if b < 0 or b >= alive.shape[0]:
            continue
        for i in range(alive.shape[1]):
            for a in range(NUM_ACTIONS):
                mask[b, i, a] = 0
            mask[b, i, STAY] = 1
            if not alive[b, i] or over[b]:
                continue
            r, c = pos[b, i, 0], pos[b, i, 1]
            for a in range(NUM_MOVES):
                nr, nc = r + MOVE_DR[a], c + MOVE_DC[a]
                if 0 <= nr < h and 0 <= nc < w and not blocks[b, nr, nc]:
                    mask[b, i, a] = 1
            for k in range(stag_pos.shape[1]):
                if stag_alive[b, k] and stag_pos[b, k, 0] == r and stag_pos[b, k, 1] == c:
                    mask[b, i, HUNT_STAG] = 1
            for k in range(hare_pos.shape[1]):
                if hare_alive[b, k] and hare_pos[b, k, 0] == r and hare_pos[b, k, 1] == c:
                    mask[b, i, HUNT_HARE] = 1


def _update_games(
    prev_pos,
    prev_alive,
    prev_stag_alive,
    prev_hare_alive,
    pos,
    alive,
    stag_pos,
    stag_alive,
    hare_pos,
    hare_alive,
    over,
    obs,
):
    """Bring observations (departed players all zero) up to date after one step, in place.

    Only what changed is written: the cells a player left and entered in every observer's
    channel for it, the prey caught, and the grids of players who left. Games that ended are
    skipped (they are reset and observed in full); cells outside the grid are never written.
    """
    n, h, w = alive.shape[1], obs.shape[2], obs.shape[3]
    if not (
        entities_fit(pos, alive, stag_pos, stag_alive, hare_pos, hare_alive)
        and prev_pos.shape == pos.shape
        and prev_alive.shape == alive.shape
        and prev_stag_alive.shape == stag_alive.shape
        and prev_hare_alive.shape == hare_alive.shape
        and over.shape[0] == alive.shape[0]
        and obs.shape[:2] == alive.shape
        and obs.shape[4] >= n + NUM_OBJECT_CHANNELS
    ):
        raise ValueError("update_observations: the arrays' shapes do not fit one another")
    for b in numba.prange(alive.shape[0]):
        if over[b]:
            continue
        for i in range(n):
            if not alive[b, i]:
                if prev_alive[b, i]:
                    obs[b, i] = 0
                continue
            for j in range(n):
                r0, c0, r, c = prev_pos[b, j, 0], prev_pos[b, j, 1], pos[b, j, 0], pos[b, j, 1]
                if prev_alive[b, j] and (r != r0 or c != c0 or not alive[b, j]):
                    k = (j - i + n) % n
                    if 0 <= r0 < h and 0 <= c0 < w:
                        obs[b, i, r0, c0, k] = 0
                    if alive[b, j] and 0 <= r < h and 0 <= c < w:
                        obs[b, i, r, c, k] = 1
            for k in range(stag_pos.shape[1]):
                r, c = stag_pos[b, k, 0], stag_pos[b, k, 1]
                if prev_stag_alive[b, k] and not stag_alive[b, k] and 0 <= r < h and 0 <= c < w:
                    obs[b, i, r, c, n + STAG_OFFSET] = 0
            for k in range(hare_pos.shape[1]):
                r, c = hare_pos[b, k, 0], hare_pos[b, k, 1]
                if prev_hare_alive[b, k] and not hare_alive[b, k] and 0 <= r < h and 0 <= c < w:
                    obs[b, i, r, c, n + HARE_OFFSET] = 0


# One source, two compilations: big batches spread games over the cores, small ones (a single
# PettingZoo env) skip the thread start-up (the threshold is the rules engine's).
_KERNELS = {
    name: compile_twice(fn)
    for name, fn in (("views", _views_games), ("masks", _masks_games), ("update", _update_games))
}


def _kernel(name: str, games: int):
    return _KERNELS[name][use_parallel(games)]


@functools.lru_cache(maxsize=16)
def _all_games(batch: int) -> np.ndarray:
    """0..batch-1, made once per batch size so that stepping allocates nothing."""
    games = np.arange(batch, dtype=np.int64)
    games.flags.writeable = False
    return games


def _entity_arrays(state: GameState) -> tuple[np.ndarray, ...]:
    return (
        state.blocks,
        state.pos,
        state.alive,
        state.stag_pos,
        state.stag_alive,
        state.hare_pos,
        state.hare_alive,
    )


def observation_shape(config: StagHuntConfig) -> tuple[int, int, int]:
    return (*config.grid_size, config.num_channels)


def tracked(state: GameState) -> tuple[np.ndarray, ...]:
    """What observations follow from step to step: positions, who is in, which prey."""
    return (state.pos, state.alive, state.stag_alive, state.hare_alive)


def _entity_prey(state: GameState) -> tuple[np.ndarray, ...]:
    return (state.stag_pos, state.stag_alive, state.hare_pos, state.hare_alive)


def observe(
    state: GameState,
    *,
    zero_departed: bool = False,
    out: tuple[np.ndarray, np.ndarray] | None = None,
    games: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every player's observation (B, N, H, W, N+3) int8 and action mask (B, N, 7) int8.

    A player that has left, or whose game is over, may only STAY. With ``zero_departed`` a
    departed player's observation is all zero; otherwise it sees the grid without itself.
    ``games`` (int64 indices) limits the work to those rows of ``out``; the others are untouched.
    """
    batch, n = state.alive.shape
    if out is None:
        h, w = state.blocks.shape[1:]
        out = (
            np.zeros((batch, n, h, w, num_channels(n)), dtype=np.int8),
            np.zeros((batch, n, NUM_ACTIONS), dtype=np.int8),
        )
    if games is None:
        games = _all_games(batch)
    obs, mask = out
    _kernel("views", len(games))(games, zero_departed, *_entity_arrays(state), obs)
    _kernel("masks", len(games))(
        games, state.blocks, state.pos, state.alive, state.over, *_entity_prey(state), mask
    )
    return out


def update_observations(
    previous: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    state: GameState,
    out: tuple[np.ndarray, np.ndarray],
) -> None:
    """Update ``observe(state, zero_departed=True)``'s output ``out`` after one step, in place.

    ``previous`` = :func:`tracked` before the step. Equivalent to observing
    in full for every game not over (the batched engine's tests check it), with far fewer writes.
    """
    obs, mask = out
    batch = state.batch_size
    _kernel("update", batch)(
        *previous, state.pos, state.alive, *_entity_prey(state), state.over, obs
    )
    _kernel("masks", batch)(
        _all_games(batch),
        state.blocks,
        state.pos,
        state.alive,
        state.over,
        *_entity_prey(state),
        mask,
    )


def global_grid(
    state: GameState, out: np.ndarray | None = None, games: np.ndarray | None = None
) -> np.ndarray:
    """The global state (B, H, W, N+3) int8: player channels in index order."""
    batch, n = state.alive.shape
    if out is None:
        out = np.zeros((batch, *state.blocks.shape[1:], num_channels(n)), dtype=np.int8)
    if games is None:
        games = _all_games(batch)
    _kernel("views", len(games))(games, False, *_entity_arrays(state), out[:, None])
    return out
