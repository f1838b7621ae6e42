"""Batched MCTS in the shape of mctx: a tree of preallocated arrays, the model passed in.

Many trees are searched in lockstep. A tree is a few arrays (node by action, node 0 the root,
node k the k-th expansion). One simulation wave: every active tree descends by PUCT to an
unexpanded edge (numba), ``recurrent_fn`` expands all those edges at once (one call: the model
batches its work over the trees), and the discounted returns are backed up (numba). The search
knows nothing of the game: the model keeps its own states, keyed by (tree, node).

Selection and backup follow SPEC section 2: Q = W / (1 + N), score = Q + c_puct * P *
sqrt(1 + sum N) / (1 + N) over legal actions, returns discounted by gamma per level with the
rewards on the path added; a terminal node is worth 0 and ends a descent. With returns above 1
that Q locks a descent onto the first edge it tries (an untried edge scores 0 against half of a
tried one's value), so ``tree_value="mean"`` offers Q = W / N, an untried edge valued as its
node (the model's value of it): each edge is tried once before the best is deepened.

Determinism: every random draw of tree ``i`` comes from streams keyed by its own seed
(:func:`stream_uniforms`, root noise), so a tree's search does not depend on its neighbours.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def hash64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, elementwise on uint64 arrays (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def tree_seeds(seeds: np.ndarray, num_trees: int) -> np.ndarray:
    """(D * num_trees,) seeds of each decision's trees, decision-major: tree t of seed s."""
    return hash64(
        np.repeat(np.asarray(seeds, dtype=np.uint64), num_trees) * _GOLDEN
        + np.tile(np.arange(num_trees, dtype=np.uint64), len(seeds))
    )


def stream_uniforms(seeds: np.ndarray, counter: int, width: int) -> np.ndarray:
    """(len(seeds), width) uniforms in [0, 1): draw ``counter`` of each seed's stream."""
    offsets = np.uint64(counter * width + 1) + np.arange(width, dtype=np.uint64)
    x = hash64(seeds[:, None] + offsets[None, :] * _GOLDEN)
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


TREE_VALUES = ("spec", "mean")


@dataclasses.dataclass(frozen=True)
class SearchSettings:
    """MCTS hyperparameters of SPEC section 2 (the original's defaults)."""

    num_trees: int = 5
    num_simulations: int = 200
    c_puct: float = 1.0
    gamma: float = 0.95
    dirichlet_noise: bool = False
    dirichlet_epsilon: float = 0.25
    dirichlet_alpha: float = 0.03
    tree_value: str = "spec"  # "spec": Q = W / (1 + N); "mean": W / N, untried = the node's value

    def __post_init__(self) -> None:
        if self.tree_value not in TREE_VALUES:
            raise ValueError(f"tree_value must be one of {TREE_VALUES}, got {self.tree_value!r}")
        for name in ("num_trees", "num_simulations"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")


class RootOutput(NamedTuple):
    """The model's view of each tree's root: prior and legal (T, A), value and terminal (T,)."""

    prior: np.ndarray
    legal: np.ndarray
    value: np.ndarray
    terminal: np.ndarray


class RecurrentOutput(NamedTuple):
    """One expanded edge per row: its reward (E,), and the new node's prior and legal (E, A),
    value and terminal (E,). Prior, legal and value of terminal nodes are ignored."""

    reward: np.ndarray
    prior: np.ndarray
    legal: np.ndarray
    value: np.ndarray
    terminal: np.ndarray


# (trees, parents, actions, children, simulation) -> RecurrentOutput: expand edge
# (parents[i], actions[i]) of tree trees[i] into the new node children[i].
RecurrentFn = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int], RecurrentOutput]


@dataclasses.dataclass
class Tree:
    """T trees of ``capacity`` nodes x A actions; edge statistics live on the parent's row."""

    children: np.ndarray  # (T, C, A) int64, node index of the child or -1
    visits: np.ndarray  # (T, C, A) int64
    value_sum: np.ndarray  # (T, C, A) float64, W: sum of the discounted returns backed up
    prior: np.ndarray  # (T, C, A) float64
    reward: np.ndarray  # (T, C, A) float64, the reward of taking the edge
    legal: np.ndarray  # (T, C, A) bool
    raw_value: np.ndarray  # (T, C) float64, the model's value of each node (0 if terminal)
    terminal: np.ndarray  # (T, C) bool
    count: np.ndarray  # (T,) int64, nodes in use

    @classmethod
    def allocate(cls, num_trees: int, capacity: int, num_actions: int) -> Tree:
        shape = (num_trees, capacity, num_actions)
        return cls(
            children=np.full(shape, -1, dtype=np.int64),
            visits=np.zeros(shape, dtype=np.int64),
            value_sum=np.zeros(shape, dtype=np.float64),
            prior=np.zeros(shape, dtype=np.float64),
            reward=np.zeros(shape, dtype=np.float64),
            legal=np.zeros(shape, dtype=bool),
            raw_value=np.zeros((num_trees, capacity), dtype=np.float64),
            terminal=np.zeros((num_trees, capacity), dtype=bool),
            count=np.ones(num_trees, dtype=np.int64),
        )

    def q(self, node: int = 0) -> np.ndarray:
        """(T, A) Q = W / (1 + N) of every tree's edges out of ``node``."""
        return self.value_sum[:, node] / (1 + self.visits[:, node])

    def set_nodes(
        self,
        trees: np.ndarray,
        nodes: np.ndarray,
        prior: np.ndarray,
        legal: np.ndarray,
        value: np.ndarray,
        terminal: np.ndarray,
    ) -> np.ndarray:
        """Record new nodes' evaluations; returns their values (0 where terminal)."""
        terminal = np.asarray(terminal, dtype=bool)
        live = ~terminal
        self.terminal[trees, nodes] = terminal
        self.prior[trees[live], nodes[live]] = prior[live]
        self.legal[trees[live], nodes[live]] = legal[live]
        values = np.where(live, np.asarray(value, dtype=np.float64), 0.0)
        self.raw_value[trees, nodes] = values
        return values


@dataclasses.dataclass
class SearchResult:
    """Root Q = W / (1 + N), visit counts and legal actions: (T, A) per tree from :func:`search`;
    (D, trees, A), (D, trees, A) and (D, A) per decision after :meth:`per_decision`."""

    q: np.ndarray
    visits: np.ndarray
    legal: np.ndarray
    tree: Tree

    def per_decision(self, num_trees: int) -> SearchResult:
        """Group consecutive trees by decision (trees of one decision share its legal actions)."""
        shape = (-1, num_trees, self.q.shape[-1])
        return SearchResult(
            self.q.reshape(shape), self.visits.reshape(shape), self.legal[::num_trees], self.tree
        )


@numba.njit(cache=True)
def _select(
    active,
    children,
    visits,
    value_sum,
    prior,
    legal,
    terminal,
    raw_value,
    mean,
    c_puct,
    path_nodes,
    path_actions,
):
    """PUCT descent in every active tree; returns (leaf parent, action or -1, path length).
    ``mean``: Q = W / N with untried edges at their node's ``raw_value`` (else W / (1 + N))."""
    n_trees, _, n_actions = children.shape
    parent = np.full(n_trees, -1, dtype=np.int64)
    action = np.full(n_trees, -1, dtype=np.int64)
    depth = np.zeros(n_trees, dtype=np.int64)
    for tr in range(n_trees):
        if not active[tr]:
            continue
        node = 0
        d = 0
        while True:
            if terminal[tr, node]:
                parent[tr] = node
                break
            n_node = 1
            for a in range(n_actions):
                n_node += visits[tr, node, a]
            sq = np.sqrt(n_node)
            best, best_a = -np.inf, -1
            for a in range(n_actions):
                if legal[tr, node, a]:
                    n = visits[tr, node, a]
                    if not mean:
                        q = value_sum[tr, node, a] / (1 + n)
                    elif n > 0:
                        q = value_sum[tr, node, a] / n
                    else:
                        q = raw_value[tr, node]
                    score = q + c_puct * prior[tr, node, a] * sq / (1 + n)
                    if score > best:
                        best, best_a = score, a
            path_nodes[tr, d] = node
            path_actions[tr, d] = best_a
            d += 1
            child = children[tr, node, best_a]
            if child < 0:
                parent[tr], action[tr] = node, best_a
                break
            node = child
        depth[tr] = d
    return parent, action, depth


@numba.njit(cache=True)
def _backup(active, leaf_value, path_nodes, path_actions, depth, reward, visits, value_sum, gamma):
    """Add the discounted return to every edge of each active tree's path, leaf to root."""
    for tr in range(leaf_value.shape[0]):
        if not active[tr]:
            continue
        g = leaf_value[tr]
        for d in range(depth[tr] - 1, -1, -1):
            node, a = path_nodes[tr, d], path_actions[tr, d]
            g = reward[tr, node, a] + gamma * g
            value_sum[tr, node, a] += g
            visits[tr, node, a] += 1


def search(
    root: RootOutput,
    recurrent_fn: RecurrentFn,
    settings: SearchSettings,
    seeds: np.ndarray | None = None,
) -> SearchResult:
    """Run ``settings.num_simulations`` waves over the T trees whose roots ``root`` describes.

    ``seeds`` (T,) uint64, one per tree, seed the root Dirichlet noise (required with
    ``settings.dirichlet_noise``). A tree whose root is terminal is not searched (zero visits).
    """
    n_trees, n_actions = root.prior.shape
    cap = settings.num_simulations + 1
    tree = Tree.allocate(n_trees, cap, n_actions)
    roots = np.arange(n_trees)
    tree.set_nodes(
        roots, np.zeros(n_trees, dtype=np.int64), root.prior, root.legal, root.value, root.terminal
    )
    if settings.dirichlet_noise:
        if seeds is None:
            raise ValueError("dirichlet_noise needs one seed per tree")
        _add_root_noise(tree, seeds, settings)
    path_nodes = np.zeros((n_trees, cap), dtype=np.int64)
    path_actions = np.zeros((n_trees, cap), dtype=np.int64)
    active = ~tree.terminal[:, 0]
    leaf_value = np.zeros(n_trees, dtype=np.float64)
    for sim in range(settings.num_simulations):
        parent, action, depth = _select(
            active,
            tree.children,
            tree.visits,
            tree.value_sum,
            tree.prior,
            tree.legal,
            tree.terminal,
            tree.raw_value,
            settings.tree_value == "mean",
            settings.c_puct,
            path_nodes,
            path_actions,
        )
        leaf_value[:] = 0.0
        ex = np.flatnonzero(action >= 0)
        if ex.size:
            leaf_value[ex] = _expand(tree, recurrent_fn, ex, parent[ex], action[ex], sim)
        _backup(
            active,
            leaf_value,
            path_nodes,
            path_actions,
            depth,
            tree.reward,
            tree.visits,
            tree.value_sum,
            settings.gamma,
        )
    return SearchResult(
        q=tree.q(0), visits=tree.visits[:, 0].copy(), legal=tree.legal[:, 0].copy(), tree=tree
    )


def _expand(
    tree: Tree,
    recurrent_fn: RecurrentFn,
    trees: np.ndarray,
    parents: np.ndarray,
    actions: np.ndarray,
    sim: int,
) -> np.ndarray:
    """Give each selected edge a new node, evaluated by the model; returns the leaf values."""
    children = tree.count[trees].copy()
    tree.count[trees] += 1
    out = recurrent_fn(trees, parents, actions, children, sim)
    tree.children[trees, parents, actions] = children
    tree.reward[trees, parents, actions] = out.reward
    return tree.set_nodes(trees, children, out.prior, out.legal, out.value, out.terminal)


def _add_root_noise(tree: Tree, seeds: np.ndarray, settings: SearchSettings) -> None:
    """Mix Dirichlet noise into each live root's legal priors, from the tree's own seed."""
    for tr in np.flatnonzero(~tree.terminal[:, 0]):
        legal = np.flatnonzero(tree.legal[tr, 0])
        rng = np.random.default_rng(int(seeds[tr]))
        noise = rng.dirichlet(np.full(len(legal), settings.dirichlet_alpha))
        eps = settings.dirichlet_epsilon
        tree.prior[tr, 0, legal] = (1 - eps) * tree.prior[tr, 0, legal] + eps * noise
