"""Co-players' last actions, inferred from two successive observations of the focal agent.

The game is fully observed and deterministic, so a co-player's move is read off its position;
when several actions explain what was seen (STAY, a failed HUNT_STAG, an illegal action run as
STAY) the caller sums their likelihoods. Runners that know the true joint action may pass it:
it is mapped to the same set of explaining actions, so the result cannot differ.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from staghunt_env import HUNT_HARE, HUNT_STAG, STAY, GameState, StagHuntConfig
from staghunt_env.spec import MOVES, NUM_ACTIONS, hare_channel, stag_channel


def _position(grid: np.ndarray, channel: int) -> tuple[int, int] | None:
    cells = np.argwhere(grid[..., channel])
    return None if len(cells) == 0 else (int(cells[0, 0]), int(cells[0, 1]))


def _legal(grid: np.ndarray, cell: tuple[int, int], n: int) -> np.ndarray:
    h, w = grid.shape[:2]
    legal = np.zeros(NUM_ACTIONS, dtype=bool)
    for a, (dr, dc) in enumerate(MOVES):
        r, c = cell[0] + dr, cell[1] + dc
        legal[a] = 0 <= r < h and 0 <= c < w and not grid[r, c, n]
    legal[STAY] = True
    legal[HUNT_STAG] = bool(grid[cell[0], cell[1], stag_channel(n)])
    legal[HUNT_HARE] = bool(grid[cell[0], cell[1], hare_channel(n)])
    return legal


def explain_transition(
    prev: np.ndarray, now: np.ndarray, true_actions: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each co-player seat k = 1..N-1 (channel k of the focal agent's grids):

    returns ``explains`` (N-1, 7) bool, the actions consistent with what was seen;
    ``observed`` (N-1,) bool, whether the co-player was on the grid before (else no evidence);
    ``caught`` (N-1,) int, the goal it realised in this step (0 stag, 1 hare, -1 none).
    ``true_actions`` (N-1,), if given, are the co-players' actual actions (the fast path).
    """
    n = prev.shape[-1] - 3
    explains = np.zeros((n - 1, NUM_ACTIONS), dtype=bool)
    observed = np.zeros(n - 1, dtype=bool)
    caught = np.full(n - 1, -1, dtype=np.int64)
    for k in range(1, n):
        before = _position(prev, k)
        if before is None:
            continue
        observed[k - 1] = True
        after = _position(now, k)
        legal = _legal(prev, before, n)
        if after is None:  # it left: it caught the prey that vanished from its cell
            stag_gone = prev[before][stag_channel(n)] and not now[before][stag_channel(n)]
            caught[k - 1] = 0 if stag_gone else 1
            explains[k - 1, HUNT_STAG if stag_gone else HUNT_HARE] = True
            continue
        if true_actions is not None:
            a = int(true_actions[k - 1])
            moved = a < STAY and legal[a]
        else:
            delta = (after[0] - before[0], after[1] - before[1])
            moved = delta in MOVES
            a = MOVES.index(delta) if moved else STAY
        if moved:
            explains[k - 1, a] = True
        else:  # stood still: STAY, a hunt of the stag that failed alone, or an illegal action
            explains[k - 1] = ~legal
            explains[k - 1, STAY] = True
            explains[k - 1, HUNT_STAG] = True  # failed alone on a stag, or illegal elsewhere
    return explains, observed, caught


def state_from_observation(
    config: StagHuntConfig, grid: np.ndarray, t: int, focal: int, first_hunt: int = -1
) -> GameState:
    """The game state (a batch of one) that the focal agent's grid shows.

    The grid is rotated observer-first (channel k holds player (focal + k) mod N); prey are
    put in the first slots of their arrays and the remaining slots marked caught.
    """
    n = config.num_players
    state = GameState.zeros(config, 1)
    state.blocks[0] = grid[..., n].astype(bool)
    for k in range(n):
        cell = _position(grid, k)
        if cell is not None:
            state.pos[0, (focal + k) % n] = cell
            state.alive[0, (focal + k) % n] = True
    for cells, alive, channel, name in (
        (state.stag_pos, state.stag_alive, stag_channel(n), "num_stags"),
        (state.hare_pos, state.hare_alive, hare_channel(n), "num_hares"),
    ):
        found = np.argwhere(grid[..., channel])
        if len(found) > cells.shape[1]:
            raise ValueError(
                f"observation shows {len(found)} prey in channel {channel}, more than "
                f"{name}={cells.shape[1]} of the agent's configuration"
            )
        cells[0, : len(found)] = found
        alive[0, : len(found)] = True
    state.t[0] = t
    state.first_hunt[0] = first_hunt
    state.over[0] = False
    return state


def check_observation(config: StagHuntConfig, observation: Any) -> tuple[np.ndarray, np.ndarray]:
    """(grid, mask) from an env observation, or a ValueError naming what does not fit."""
    if not isinstance(observation, dict) or not {"observation", "action_mask"} <= set(observation):
        raise ValueError(
            "expected the env's observation dict with 'observation' and 'action_mask', "
            f"got {type(observation).__name__}"
        )
    grid = np.array(observation["observation"], dtype=np.int8)  # copies: envs reuse buffers
    mask = np.array(observation["action_mask"], dtype=np.int8)
    expected = (*config.grid_size, config.num_channels)
    if grid.shape != expected:
        raise ValueError(
            f"observation grid has shape {grid.shape}, but this agent was built for {expected} "
            f"(grid_size={config.grid_size}, num_players={config.num_players})"
        )
    if mask.shape != (7,):
        raise ValueError(f"action_mask must have shape (7,), got {mask.shape}")
    return grid, mask
