"""What agents see: observations, action masks and the global state grid, from a GameState.

Channel k < N of agent i's grid holds player (i + k) mod N (the observer first, then the others
in cyclic order); channel N holds blocks, N + 1 stags, N + 2 hares.
"""

from __future__ import annotations

import numba
import numpy as np

from .config import StagHuntConfig
from .rules import _DC, _DR, NUM_ACTIONS, GameState


@numba.njit(cache=True, inline="always")
def _write_view(b, observer, blocks, pos, alive, stag_pos, stag_alive, hare_pos, hare_alive, out):
    """Fill ``out`` (H, W, N + 3), assumed zero, with game b's grid rotated to ``observer``."""
    h, w = blocks.shape[1], blocks.shape[2]
    n = alive.shape[1]
    for k in range(n):
        j = (observer + k) % n
        if alive[b, j]:
            out[pos[b, j, 0], pos[b, j, 1], k] = 1
    for r in range(h):
        for c in range(w):
            out[r, c, n] = blocks[b, r, c]  # a store, not a branch: walls are random
    for k in range(stag_pos.shape[1]):
        if stag_alive[b, k]:
            out[stag_pos[b, k, 0], stag_pos[b, k, 1], n + 1] = 1
    for k in range(hare_pos.shape[1]):
        if hare_alive[b, k]:
            out[hare_pos[b, k, 0], hare_pos[b, k, 1], n + 2] = 1


def _observe_games(
    games,
    blocks,
    pos,
    alive,
    stag_pos,
    stag_alive,
    hare_pos,
    hare_alive,
    over,
    zero_departed,
    obs,
    mask,
):
    """Observations and masks of the listed games, written into their rows of obs and mask."""
    n = alive.shape[1]
    h, w = blocks.shape[1], blocks.shape[2]
    for gi in numba.prange(games.shape[0]):
        b = games[gi]
        for i in range(n):
            obs[b, i] = 0
            mask[b, i] = 0
            mask[b, i, 4] = 1
            if zero_departed and not alive[b, i]:
                continue
            _write_view(
                b, i, blocks, pos, alive, stag_pos, stag_alive, hare_pos, hare_alive, obs[b, i]
            )
            if not alive[b, i] or over[b]:
                continue
            r, c = pos[b, i, 0], pos[b, i, 1]
            for a in range(4):
                nr, nc = r + _DR[a], c + _DC[a]
                if 0 <= nr < h and 0 <= nc < w and not blocks[b, nr, nc]:
                    mask[b, i, a] = 1
            mask[b, i, 5] = obs[b, i, r, c, n + 1]
            mask[b, i, 6] = obs[b, i, r, c, n + 2]


def _grid_games(games, blocks, pos, alive, stag_pos, stag_alive, hare_pos, hare_alive, out):
    for gi in numba.prange(games.shape[0]):
        b = games[gi]
        out[b] = 0
        _write_view(b, 0, blocks, pos, alive, stag_pos, stag_alive, hare_pos, hare_alive, out[b])


# One source, two compilations: big batches spread games over the cores, small ones (a single
# PettingZoo env) skip the thread start-up.
PARALLEL_FROM = 512
_observe_serial = numba.njit(cache=True)(_observe_games)
_observe_parallel = numba.njit(cache=True, parallel=True)(_observe_games)
_grid_serial = numba.njit(cache=True)(_grid_games)
_grid_parallel = numba.njit(cache=True, parallel=True)(_grid_games)


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
            np.zeros((batch, n, h, w, n + 3), dtype=np.int8),
            np.zeros((batch, n, NUM_ACTIONS), dtype=np.int8),
        )
    if games is None:
        games = np.arange(batch, dtype=np.int64)
    kernel = _observe_parallel if len(games) >= PARALLEL_FROM else _observe_serial
    kernel(games, *_entity_arrays(state), state.over, zero_departed, *out)
    return out


def global_grid(
    state: GameState, out: np.ndarray | None = None, games: np.ndarray | None = None
) -> np.ndarray:
    """The global state (B, H, W, N+3) int8: player channels in index order."""
    batch, n = state.alive.shape
    if out is None:
        out = np.zeros((batch, *state.blocks.shape[1:], n + 3), dtype=np.int8)
    if games is None:
        games = np.arange(batch, dtype=np.int64)
    kernel = _grid_parallel if len(games) >= PARALLEL_FROM else _grid_serial
    kernel(games, *_entity_arrays(state), out)
    return out
