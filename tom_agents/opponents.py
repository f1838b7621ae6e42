"""Opponent models behind one interface: how likely is each action of each co-player, per goal.

``probs(grids, t, masks, present=None) -> (M, K, G, 7)``: for M states and K co-players (each
grid as that co-player sees it, its own channel first), the action distribution under each of G
goals; ``present`` (M, K) may say which co-players are still in the game (the others STAY).
``learned`` (SPEC's networks, one per co-player), ``scripted`` (an analytic walker to the
nearest target of the goal), ``uniform`` (random legal actions, G = 1).
"""

from __future__ import annotations

from typing import Protocol

import numba
import numpy as np
import torch

from staghunt_env import STAY, StagHuntConfig
from staghunt_env.spec import HUNT_STAG, MOVE_DC, MOVE_DR, NUM_ACTIONS, NUM_GOALS, STAG_OFFSET

from .inference import InferenceNet, InferenceSettings
from .nets import OpponentNet


class OpponentModel(Protocol):
    """What the planner needs of a model of its co-players."""

    num_goals: int

    def probs(
        self, grids: np.ndarray, t: np.ndarray, masks: np.ndarray, present: np.ndarray | None = None
    ) -> np.ndarray:
        """(M, K, G, 7) action probabilities of K co-players in M states, per goal."""


class UniformOpponents:
    """Co-players act uniformly at random among their legal actions (the plain `mcts` agent)."""

    num_goals = 1

    def probs(
        self, grids: np.ndarray, t: np.ndarray, masks: np.ndarray, present=None
    ) -> np.ndarray:
        p = masks.astype(np.float32)
        return (p / p.sum(-1, keepdims=True))[:, :, None, :]


@numba.njit(cache=True)
def _scripted_kernel(grids, masks, epsilon, out):
    m_count, k_count, h, w, c = grids.shape
    n = c - 3
    dist = np.empty((h, w), dtype=np.int64)
    queue = np.empty(h * w, dtype=np.int64)
    for m in range(m_count):
        for k in range(k_count):
            legal = 0
            for a in range(NUM_ACTIONS):
                legal += masks[m, k, a]
            r0, c0 = -1, -1
            for r in range(h):
                for cc in range(w):
                    if grids[m, k, r, cc, 0]:
                        r0, c0 = r, cc
            for g in range(2):
                p = out[m, k, g]
                p[:] = 0.0
                if r0 >= 0:
                    # multi-source BFS from the goal's prey, around blocks
                    head, tail = 0, 0
                    for r in range(h):
                        for cc in range(w):
                            dist[r, cc] = -1
                            if grids[m, k, r, cc, n + STAG_OFFSET + g]:
                                dist[r, cc] = 0
                                queue[tail] = r * w + cc
                                tail += 1
                    while head < tail:
                        cell = queue[head]
                        head += 1
                        r, cc = cell // w, cell % w
                        for a in range(4):
                            nr, nc = r + MOVE_DR[a], cc + MOVE_DC[a]
                            inside = 0 <= nr < h and 0 <= nc < w
                            if inside and dist[nr, nc] < 0 and not grids[m, k, nr, nc, n]:
                                dist[nr, nc] = dist[r, cc] + 1
                                queue[tail] = nr * w + nc
                                tail += 1
                    d0 = dist[r0, c0]
                    if d0 == 0 and masks[m, k, HUNT_STAG + g]:
                        p[HUNT_STAG + g] = 1.0
                    elif d0 > 0:
                        better = 0
                        for a in range(4):
                            nr, nc = r0 + MOVE_DR[a], c0 + MOVE_DC[a]
                            if masks[m, k, a] and dist[nr, nc] == d0 - 1:
                                p[a] = 1.0
                                better += 1
                        for a in range(4):
                            p[a] /= max(better, 1)
                total = 0.0
                for a in range(NUM_ACTIONS):
                    total += p[a]
                for a in range(NUM_ACTIONS):
                    uniform = masks[m, k, a] / legal
                    base = p[a] if total > 0 else uniform
                    p[a] = (1.0 - epsilon) * base + epsilon * uniform


class ScriptedOpponents:
    """Goal g: walk a shortest path (around blocks) to the nearest prey of kind g, then hunt it.

    Ties between shortest paths are split evenly; with probability ``epsilon`` the co-player
    instead acts uniformly among its legal actions, so that no observed action is impossible.
    """

    num_goals = NUM_GOALS

    def __init__(self, epsilon: float = 0.05) -> None:
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        self.epsilon = epsilon

    def probs(
        self, grids: np.ndarray, t: np.ndarray, masks: np.ndarray, present=None
    ) -> np.ndarray:
        out = np.empty((*grids.shape[:2], NUM_GOALS, NUM_ACTIONS), dtype=np.float32)
        _scripted_kernel(grids, masks, self.epsilon, out)
        return out


class LearnedOpponents:
    """One :class:`OpponentNet` per co-player seat (relative to the focal agent), each its own Adam."""

    def __init__(
        self,
        config: StagHuntConfig,
        goal_conditioned: bool = True,
        device: torch.device | str = "cpu",
        lr: float = 5e-4,
        channels: tuple[int, int, int] = (16, 32, 32),
        hidden: int = 512,
        inference: InferenceSettings | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.nets = [
            OpponentNet(config, goal_conditioned, channels, hidden).to(self.device)
            for _ in range(config.num_players - 1)
        ]
        self.inference = [InferenceNet(net, inference or InferenceSettings()) for net in self.nets]
        self.optimizers = [torch.optim.Adam(net.parameters(), lr=lr) for net in self.nets]
        self.num_goals = self.nets[0].num_goals

    @torch.inference_mode()
    def probs(
        self, grids: np.ndarray, t: np.ndarray, masks: np.ndarray, present: np.ndarray | None = None
    ) -> np.ndarray:
        """``present`` (M, K) bool, if given, skips the co-players who have left (they STAY)."""
        out = np.zeros((*grids.shape[:2], self.num_goals, NUM_ACTIONS), dtype=np.float32)
        out[..., STAY] = 1.0
        for k, net in enumerate(self.inference):
            rows = np.arange(len(grids)) if present is None else np.flatnonzero(present[:, k])
            if rows.size:
                log_p = net(
                    torch.from_numpy(grids[rows, k]).to(self.device),
                    torch.from_numpy(np.asarray(t)[rows]).to(self.device),
                    torch.from_numpy(masks[rows, k]).to(self.device),
                )
                out[rows, k] = log_p.exp().cpu().numpy()
        return out
