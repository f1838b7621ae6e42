"""THE game: the rules of the Markov Stag Hunt, written once.

State in, state out, on arrays with a leading batch axis, so one game and 4096 games run the
same code: the PettingZoo envs use a batch of one, the batched engine and the planner use many.
The loops are compiled with numba (the rules branch per agent and per prey, which does not
vectorize well in numpy); everything here is deterministic except :func:`reset`, whose
randomness comes from the caller's ``numpy.random.Generator``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numba
import numpy as np

from .config import BLOCK_SHAPES, StagHuntConfig

UP, DOWN, LEFT, RIGHT, STAY, HUNT_STAG, HUNT_HARE = range(7)
NUM_ACTIONS = 7
ACTION_NAMES = ("UP", "DOWN", "LEFT", "RIGHT", "STAY", "HUNT_STAG", "HUNT_HARE")
MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1))  # (row, col) steps of UP, DOWN, LEFT, RIGHT
_DR = np.array([dr for dr, _ in MOVES], dtype=np.int64)  # the same table, for the kernels
_DC = np.array([dc for _, dc in MOVES], dtype=np.int64)

_SHAPE_LEN = np.array([len(s) for s in BLOCK_SHAPES], dtype=np.int64)
_SHAPES = np.zeros((len(BLOCK_SHAPES), max(_SHAPE_LEN), 2), dtype=np.int64)
for _k, _shape in enumerate(BLOCK_SHAPES):
    _SHAPES[_k, : len(_shape)] = _shape


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
        index = _as_batch_index(index)
        return GameState(**{k: v[index].copy() for k, v in self.arrays().items()})

    def assign(self, index: Any, other: GameState) -> None:
        """Scatter ``other``'s games into positions ``index`` of this state, in place."""
        index = _as_batch_index(index)
        for k, v in self.arrays().items():
            v[index] = getattr(other, k)

    def check_compatible(self, config: StagHuntConfig, batch: int | None = None) -> None:
        """Raise ValueError naming the first array whose shape or dtype does not fit ``config``."""
        reference = GameState.zeros(config, 1 if batch is None else batch)
        for name, expected in reference.arrays().items():
            got = getattr(self, name, None)
            if not isinstance(got, np.ndarray):
                raise ValueError(f"state field {name!r} is missing or not an array")
            shape_ok = got.shape[1:] == expected.shape[1:] and (
                batch is None or got.shape[0] == batch
            )
            if not shape_ok or got.dtype != expected.dtype:
                raise ValueError(
                    f"state field {name!r} has shape {got.shape} and dtype {got.dtype}; this "
                    f"configuration needs (B, *{expected.shape[1:]}) of {expected.dtype}"
                )


def _as_batch_index(index: Any) -> Any:
    if isinstance(index, (int, np.integer)):
        return np.array([index])
    return index


# --------------------------------------------------------------------------- random layouts

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
        for a in range(4):
            nr, nc = r + _DR[a], c + _DC[a]
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
        seeds = rng.integers(0, 2**63, size=len(games), dtype=np.uint64)
        _reset_random_kernel(
            games.astype(np.int64),
            seeds,
            config.max_block_components,
            state.blocks,
            state.pos,
            state.stag_pos,
            state.hare_pos,
            _SHAPES,
            _SHAPE_LEN,
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
):
    n_games, n = alive.shape
    h, w = blocks.shape[1], blocks.shape[2]
    for b in numba.prange(n_games):
        live_at_start = 0
        for i in range(n):
            rewards[b, i] = 0.0
            terminated[b, i] = False
            truncated[b, i] = False
            if alive[b, i] and not over[b]:
                live_at_start += 1
        if live_at_start == 0:
            continue
        # 1. moves (illegal moves run as STAY)
        for i in range(n):
            a = actions[b, i]
            if alive[b, i] and a < 4:
                nr, nc = pos[b, i, 0] + _DR[a], pos[b, i, 1] + _DC[a]
                if 0 <= nr < h and 0 <= nc < w and not blocks[b, nr, nc]:
                    pos[b, i, 0], pos[b, i, 1] = nr, nc
        caught = False
        # 2. stags: a group of two or more HUNT_STAG on the cell catches it, split by strength;
        # 3. hares: one HUNT_HARE on the cell catches it, split equally if several hunt it together
        for kind in range(2):
            prey_pos = stag_pos if kind == 0 else hare_pos
            prey_alive = stag_alive if kind == 0 else hare_alive
            for k in range(prey_pos.shape[1]):
                if not prey_alive[b, k]:
                    continue
                hunters, count, total = 0, 0, 0.0
                for i in range(n):
                    if (
                        alive[b, i]
                        and actions[b, i] == 5 + kind
                        and pos[b, i, 0] == prey_pos[b, k, 0]
                        and pos[b, i, 1] == prey_pos[b, k, 1]
                    ):
                        hunters |= 1 << i
                        count += 1
                        total += strength[i]
                if count < (2 if kind == 0 else 1):
                    continue
                prey_alive[b, k] = False
                caught = True
                for i in range(n):
                    if (hunters >> i) & 1:
                        if kind == 0:
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
        # 4. catchers leave
        remaining = 0
        for i in range(n):
            if terminated[b, i]:
                alive[b, i] = False
            elif alive[b, i]:
                remaining += 1
        t[b] += 1
        if caught and first_hunt[b] < 0:
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


# One source, two compilations: big batches spread games over the cores.
PARALLEL_FROM = 512
_step_serial = numba.njit(cache=True)(_step_games)
_step_parallel = numba.njit(cache=True, parallel=True)(_step_games)


def step(
    config: StagHuntConfig,
    state: GameState,
    actions: np.ndarray,
    *,
    inplace: bool = False,
    out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[GameState, np.ndarray, np.ndarray, np.ndarray]:
    """Advance every game one step: (state, actions[B, N]) -> (state', rewards, terminated, truncated).

    ``terminated``/``truncated`` mark the players whose episode ended in this step. Finished
    games (``state.over``) and departed players are left alone and get zero reward. With
    ``inplace=True`` the state is updated in place, and ``out`` buffers avoid allocation.
    """
    if not inplace:
        state = state.copy()
    batch, n = state.alive.shape
    if out is None:
        out = (
            np.zeros((batch, n), dtype=np.float32),
            np.zeros((batch, n), dtype=bool),
            np.zeros((batch, n), dtype=bool),
        )
    rewards, terminated, truncated = out
    kernel = _step_parallel if batch >= PARALLEL_FROM else _step_serial
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
    )
    return state, rewards, terminated, truncated
