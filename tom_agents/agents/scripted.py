"""Rule-based co-players of the original paper: random, and walkers to the nearest stag / hare / prey."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np

from staghunt_env import HUNT_HARE, HUNT_STAG, STAY, StagHuntConfig
from staghunt_env.spec import MOVES, hare_channel, stag_channel

from ..perception import check_observation


def first_step_towards(grid: np.ndarray, targets: np.ndarray) -> int | None:
    """The first move of a shortest path around blocks from the observer to the nearest target cell.

    ``grid`` is an observation (H, W, N+3); ``targets`` an (H, W) bool map. Returns STAY when the
    observer already stands on a target, None when no target is reachable. Ties go to the
    first move in UP, DOWN, LEFT, RIGHT order, so the choice is deterministic.
    """
    n = grid.shape[-1] - 3
    blocks = grid[..., n].astype(bool)
    (r0,), (c0,) = np.nonzero(grid[..., 0])
    if targets[r0, c0]:
        return STAY
    h, w = blocks.shape
    first = np.full((h, w), -1, dtype=np.int64)
    queue = deque()
    for a, (dr, dc) in enumerate(MOVES):
        r, c = r0 + dr, c0 + dc
        if 0 <= r < h and 0 <= c < w and not blocks[r, c] and first[r, c] < 0:
            first[r, c] = a
            queue.append((r, c))
    while queue:
        r, c = queue.popleft()
        if targets[r, c]:
            return int(first[r, c])
        for dr, dc in MOVES:
            nr, nc = r + dr, c + dc
            free = 0 <= nr < h and 0 <= nc < w and not blocks[nr, nc]
            if free and first[nr, nc] < 0 and (nr, nc) != (r0, c0):
                first[nr, nc] = first[r, c]
                queue.append((nr, nc))
    return None


class RandomAgent:
    """Uniformly random legal actions, from its own seeded generator."""

    def __init__(self, env_config: StagHuntConfig, seed: int | None = None) -> None:
        self.config = env_config
        self.rng = np.random.default_rng(seed)
        self.agent_id: str | None = None

    def reset(self, agent_id: str) -> None:
        self.agent_id = agent_id

    def act(self, observation: Mapping[str, Any], info: Mapping[str, Any] | None = None) -> int:
        _, mask = self._checked(observation)
        return int(self.rng.choice(np.flatnonzero(mask)))

    def _checked(self, observation: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        if self.agent_id is None:
            raise RuntimeError("call reset(agent_id) before act()")
        return check_observation(self.config, observation)

    def end_episode(self, outcome: Mapping[str, int] | None = None) -> None:
        """Nothing to learn."""


class NearestPreyAgent(RandomAgent):
    """Walks the shortest path to the nearest prey of its kinds, then hunts it.

    A stag hunter standing on the stag keeps choosing HUNT_STAG, which is how it waits for a
    partner: alone it catches nothing and loses nothing.
    """

    def __init__(
        self,
        env_config: StagHuntConfig,
        seed: int | None = None,
        goals: tuple[str, ...] = ("stag", "hare"),
    ) -> None:
        super().__init__(env_config, seed)
        self.n = env_config.num_players
        self.goals = goals

    def act(self, observation: Mapping[str, Any], info: Mapping[str, Any] | None = None) -> int:
        grid, mask = self._checked(observation)
        channel = {"stag": stag_channel(self.n), "hare": hare_channel(self.n)}
        targets = np.zeros(grid.shape[:2], dtype=bool)
        for goal in self.goals:
            targets |= grid[..., channel[goal]].astype(bool)
        move = first_step_towards(grid, targets)
        if move is None:  # nothing of its kinds left to reach: act at random
            return int(self.rng.choice(np.flatnonzero(mask)))
        if move == STAY:
            (r,), (c,) = np.nonzero(grid[..., 0])
            return HUNT_STAG if grid[r, c, stag_channel(self.n)] else HUNT_HARE
        return move
