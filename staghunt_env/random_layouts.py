"""Random layouts: walls drawn until the free cells are connected, entities on distinct cells.

Part of :func:`staghunt_env.rules.reset`, kept apart because it is long and game-agnostic. Each
game gets its own splitmix64 stream seeded from the caller's ``numpy.random.Generator``, so
a layout depends only on that Generator's state.
"""

from __future__ import annotations

import numba
import numpy as np

from .config import BLOCK_SHAPES
from .spec import MOVE_DC, MOVE_DR, NUM_MOVES

_SHAPE_LEN = np.array([len(s) for s in BLOCK_SHAPES], dtype=np.int64)
_SHAPES = np.zeros((len(BLOCK_SHAPES), max(_SHAPE_LEN), 2), dtype=np.int64)
for _k, _shape in enumerate(BLOCK_SHAPES):
    _SHAPES[_k, : len(_shape)] = _shape

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


@numba.njit(cache=True)
def _next_uniform(rng_state):
    """splitmix64: a tiny counter-based generator seeded per game from the caller's Generator."""
    rng_state[0] += _GOLDEN
    z = rng_state[0]
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return (z >> _S11) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True)
def _randint(rng_state, n):
    return min(int(_next_uniform(rng_state) * n), n - 1)


@numba.njit(cache=True)
def _free_cells_connected(blocks, queue, seen):
    """BFS over free cells: True when every free cell is reachable from every other."""
    h, w = blocks.shape
    seen[:, :] = False
    total = 0
    start = -1
    for r in range(h):
        for c in range(w):
            if not blocks[r, c]:
                total += 1
                if start < 0:
                    start = r * w + c
    if total == 0:
        return False
    head, tail = 0, 1
    queue[0] = start
    seen[start // w, start % w] = True
    while head < tail:
        cell = queue[head]
        head += 1
        r, c = cell // w, cell % w
        for a in range(NUM_MOVES):
            nr, nc = r + MOVE_DR[a], c + MOVE_DC[a]
            if 0 <= nr < h and 0 <= nc < w and not blocks[nr, nc] and not seen[nr, nc]:
                seen[nr, nc] = True
                queue[tail] = nr * w + nc
                tail += 1
    return tail == total


_LAYOUT_TRIES = 100


@numba.njit(cache=True)
def _reset_random_kernel(
    games, seeds, n_components, blocks, pos, stag_pos, hare_pos, shapes, shape_len
):
    """Random walls (whole layouts retried until the free cells are connected), then the
    entities on distinct free cells. After ``_LAYOUT_TRIES`` disconnected layouts (only
    plausible on tiny, crowded grids) the game gets no walls."""
    _, h, w = blocks.shape
    n, s, r = pos.shape[1], stag_pos.shape[1], hare_pos.shape[1]
    rng_state = np.zeros(1, dtype=np.uint64)
    queue = np.zeros(h * w, dtype=np.int64)
    seen = np.zeros((h, w), dtype=np.bool_)
    free = np.zeros(h * w, dtype=np.int64)
    for gi in range(games.shape[0]):
        b = games[gi]
        rng_state[0] = seeds[gi]
        connected = False
        for _ in range(_LAYOUT_TRIES):
            blocks[b, :, :] = False
            for _ in range(n_components):
                k = _randint(rng_state, shapes.shape[0])
                max_dr, max_dc = 0, 0
                for j in range(shape_len[k]):
                    max_dr = max(max_dr, shapes[k, j, 0])
                    max_dc = max(max_dc, shapes[k, j, 1])
                if max_dr >= h or max_dc >= w:
                    continue
                r0 = _randint(rng_state, h - max_dr)
                c0 = _randint(rng_state, w - max_dc)
                for j in range(shape_len[k]):
                    blocks[b, r0 + shapes[k, j, 0], c0 + shapes[k, j, 1]] = True
            if _free_cells_connected(blocks[b], queue, seen):
                connected = True
                break
        if not connected:
            blocks[b, :, :] = False
        n_free = 0
        for cell in range(h * w):
            if not blocks[b, cell // w, cell % w]:
                free[n_free] = cell
                n_free += 1
        for j in range(n + s + r):  # partial Fisher-Yates: distinct cells
            pick = j + _randint(rng_state, n_free - j)
            free[j], free[pick] = free[pick], free[j]
            cell = free[j]
            if j < n:
                pos[b, j, 0], pos[b, j, 1] = cell // w, cell % w
            elif j < n + s:
                stag_pos[b, j - n, 0], stag_pos[b, j - n, 1] = cell // w, cell % w
            else:
                hare_pos[b, j - n - s, 0], hare_pos[b, j - n - s, 1] = cell // w, cell % w


def draw(
    rng: np.random.Generator,
    games: np.ndarray,
    max_block_components: int,
    blocks: np.ndarray,
    pos: np.ndarray,
    stag_pos: np.ndarray,
    hare_pos: np.ndarray,
) -> None:
    """Draw walls and entity cells for rows ``games`` of the arrays, in place."""
    seeds = rng.integers(0, 2**63, size=len(games), dtype=np.uint64)
    _reset_random_kernel(
        games.astype(np.int64),
        seeds,
        max_block_components,
        blocks,
        pos,
        stag_pos,
        hare_pos,
        _SHAPES,
        _SHAPE_LEN,
    )
