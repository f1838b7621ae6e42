"""The ORIGINAL design of HOP's planner, kept as a speed reference and as a check of the search.

One decision at a time, one tree after the other: Python node objects with dict children, a
``copy.deepcopy`` of a PettingZoo ``parallel_env`` per expanded node, batch-1 network calls
(one policy-value call per new leaf, one opponent-net call per live co-player per expansion,
no cache, as the original MOA planner sampled co-player actions). The formulas (PUCT, backup)
and the co-player sampling streams are those of :mod:`tom_agents.search`, so with padded
network calls it gives the batched search's visit counts and Q exactly
(``tests/test_search.py`` checks it); ``benchmarks.mcts_throughput`` times it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

import staghunt_env
from staghunt_env import BatchedStagHunt, GameState, StagHuntConfig
from staghunt_env.observe import observe
from staghunt_env.parallel import SNAPSHOT_FORMAT
from staghunt_env.spec import NUM_ACTIONS
from tom_agents.inference import padded_forward
from tom_agents.search import SearchSettings, stream_uniforms, tree_seeds


class NaiveNode:
    """One tree node: its own env copy and observations; the edge into it keeps N, W, reward."""

    __slots__ = ("children", "env", "legal", "n", "obs", "prior", "r", "terminal", "w")

    def __init__(self, env: Any, obs: dict, terminal: bool, reward: float = 0.0) -> None:
        self.env = env
        self.obs = obs
        self.terminal = terminal
        self.children: dict[int, NaiveNode] = {}
        self.prior: np.ndarray | None = None
        self.legal: np.ndarray | None = None
        self.n = 0
        self.w = 0.0
        self.r = reward


class NaiveNets:
    """Batch-1 network calls, as the original planner made them.

    ``padded=False`` (timed): the plain module on a batch of one. ``padded=True`` (checks):
    through ``padded_forward``, whose rows are bit-identical to the batched search's.
    """

    def __init__(
        self,
        policy_value: torch.nn.Module,
        opponent_nets: Sequence[torch.nn.Module],
        padded: bool = False,
    ) -> None:
        self.pv = policy_value
        self.opp = list(opponent_nets)
        self.padded = padded
        self.calls = {"pv": 0, "opp": 0}

    def _call(self, module: torch.nn.Module, grid: np.ndarray, t: int, mask: np.ndarray) -> Any:
        args = (
            torch.from_numpy(np.ascontiguousarray(grid)[None]),
            torch.from_numpy(np.array([t], dtype=np.int32)),
            torch.from_numpy(np.ascontiguousarray(mask)[None]),
        )
        return padded_forward(module, *args) if self.padded else module(*args)

    @torch.inference_mode()
    def policy_value(self, grid: np.ndarray, t: int, mask: np.ndarray) -> tuple[np.ndarray, float]:
        self.calls["pv"] += 1
        log_pi, v = self._call(self.pv, grid, t, mask)
        return log_pi.exp().double().numpy()[0], float(v.double()[0])

    @torch.inference_mode()
    def opponent(self, k: int, grid: np.ndarray, t: int, mask: np.ndarray) -> np.ndarray:
        """(G, 7) action probabilities of co-player seat k (0-based) under each goal."""
        self.calls["opp"] += 1
        return self._call(self.opp[k], grid, t, mask).exp()[0].numpy().astype(np.float64)


def random_decisions(
    batch: int, env_seed: int, rng_seed: int, num_trees: int, steps: int
) -> tuple[GameState, np.ndarray, np.ndarray, np.ndarray]:
    """Decisions to search, naive or batched: the games of ``BatchedStagHunt(batch, env_seed)``
    after ``steps`` random legal joint steps, a random live focal player each, random co-player
    goals per tree and a seed each. Returns (roots, focal, goals (batch, trees, N-1), seeds)."""
    env = BatchedStagHunt(batch, seed=env_seed)
    rng = np.random.default_rng(rng_seed)
    _, mask = env.reset()
    for _ in range(steps):
        _, mask, *_ = env.step(np.argmax(rng.random(mask.shape) * mask, axis=-1))
    roots = env.select(np.arange(batch))
    focal = np.array([rng.choice(np.flatnonzero(alive)) for alive in roots.alive])
    goals = rng.integers(0, 2, (batch, num_trees, env.config.num_players - 1))
    return roots, focal, goals, rng.integers(0, 2**63, batch).astype(np.uint64)


def root_env(config: StagHuntConfig, roots: GameState, i: int) -> tuple[Any, dict]:
    """A PettingZoo parallel env set to game i of ``roots`` (``set_state``), and its observations."""
    env = staghunt_env.parallel_env(**config.to_dict())
    env.reset(seed=0)
    game = roots.select([i])
    live = [] if game.over[0] else [f"hunter_{j}" for j in np.flatnonzero(game.alive[0])]
    env.set_state(
        {
            "format": SNAPSHOT_FORMAT,
            "config": config.to_dict(),
            "game": {k: v.copy() for k, v in game.arrays().items()},
            "agents": live,
            "rng": None,
        }
    )
    obs, mask = observe(env.game_state)
    return env, {
        a: {"observation": obs[0, int(a[7:])], "action_mask": mask[0, int(a[7:])]} for a in live
    }


def naive_search(
    config: StagHuntConfig,
    settings: SearchSettings,
    roots: GameState,
    i: int,
    focal: int,
    goals: np.ndarray,
    seed: np.uint64,
    nets: NaiveNets,
) -> tuple[np.ndarray, np.ndarray]:
    """Decision i of ``roots``: the root (Q, visits), each (trees, 7), tree after tree."""
    env0, obs0 = root_env(config, roots, i)
    n, me = config.num_players, f"hunter_{focal}"
    seeds = tree_seeds(np.array([seed], dtype=np.uint64), settings.num_trees)
    q = np.zeros((settings.num_trees, NUM_ACTIONS))
    visits = np.zeros((settings.num_trees, NUM_ACTIONS), dtype=np.int64)
    for tree in range(settings.num_trees):
        root = NaiveNode(copy.deepcopy(env0), obs0, terminal=me not in env0.agents)
        _evaluate(root, me, int(env0.game_state.t[0]), nets)
        for sim in range(settings.num_simulations):
            node, path, action = _select(root, settings.c_puct)
            value = 0.0
            if action >= 0:  # expansion: deepcopy the parent's env, sample co-players, step
                uniforms = stream_uniforms(seeds[tree : tree + 1], sim, n - 1)[0]
                env = copy.deepcopy(node.env)
                t = int(env.game_state.t[0])
                joint = {me: action}
                for k in range(1, n):
                    name = f"hunter_{(focal + k) % n}"
                    if name in env.agents:
                        o = node.obs[name]
                        probs = nets.opponent(k - 1, o["observation"], t, o["action_mask"])
                        p = probs[min(int(goals[tree, k - 1]), len(probs) - 1)]
                        sampled = int((p.cumsum() < uniforms[k - 1] * p.sum()).sum())
                        joint[name] = min(sampled, NUM_ACTIONS - 1)
                obs, rewards, _, _, infos = env.step(joint)
                child = NaiveNode(env, obs, me not in env.agents, float(rewards[me]))
                node.children[action] = child
                path.append(child)
                value = _evaluate(child, me, infos[me]["t"], nets)
            for child in reversed(path):  # backup
                value = child.r + settings.gamma * value
                child.w += value
                child.n += 1
        for a, child in root.children.items():
            visits[tree, a] = child.n
            q[tree, a] = child.w / (1 + child.n)
    return q, visits


def _select(root: NaiveNode, c_puct: float) -> tuple[NaiveNode, list[NaiveNode], int]:
    """PUCT descent: (the last node, the edges' child nodes on the way, the new action or -1)."""
    node, path = root, []
    while not node.terminal:
        sq = math.sqrt(1 + sum(c.n for c in node.children.values()))
        best, best_a = -math.inf, -1
        for a in np.flatnonzero(node.legal):
            child = node.children.get(int(a))
            cn, cw = (child.n, child.w) if child is not None else (0, 0.0)
            score = cw / (1 + cn) + c_puct * node.prior[a] * sq / (1 + cn)
            if score > best:
                best, best_a = score, int(a)
        if best_a not in node.children:
            return node, path, best_a
        node = node.children[best_a]
        path.append(node)
    return node, path, -1


def _evaluate(node: NaiveNode, me: str, t: int, nets: NaiveNets) -> float:
    """Prior and legal actions of a new live node; its value (0 if terminal)."""
    if node.terminal:
        return 0.0
    o = node.obs[me]
    node.prior, value = nets.policy_value(o["observation"], t, o["action_mask"])
    node.legal = o["action_mask"] > 0
    return value
