"""Batched MCTS over the focal agent's actions, co-players simulated by an opponent model.

Many trees are searched in lockstep (mctx's layout: a tree is a few preallocated arrays, node
by action). One simulation wave: every tree descends by PUCT to an unexpanded edge (numba),
the co-players of all those leaves' parents are sampled from the opponent model (one call, on
the parents that have no cached distribution yet), all leaves are stepped at once by the
shared rules engine, and all new leaves are evaluated by one policy-value forward; then the
discounted returns are backed up (numba).

Determinism: every random draw of tree ``i`` comes from a counter-based stream keyed by its
seed, so a tree's search does not depend on which other trees are searched beside it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numba
import numpy as np

from staghunt_env import GameState, StagHuntConfig
from staghunt_env.observe import observe
from staghunt_env.rules import NUM_ACTIONS, STAY
from staghunt_env.rules import step as rules_step

from .opponents import OpponentModel

PolicyValueFn = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def hash64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, elementwise on uint64 arrays (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def stream_uniforms(seeds: np.ndarray, counter: int, width: int) -> np.ndarray:
    """(len(seeds), width) uniforms in [0, 1): draw ``counter`` of each seed's stream."""
    offsets = np.uint64(counter * width + 1) + np.arange(width, dtype=np.uint64)
    x = hash64(seeds[:, None] + offsets[None, :] * _GOLDEN)
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


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

    def __post_init__(self) -> None:
        for name in ("num_trees", "num_simulations"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")


@dataclasses.dataclass
class SearchResult:
    """Per decision and tree: root Q = W / (1 + N) and visit counts, (D, trees, 7)."""

    q: np.ndarray
    visits: np.ndarray
    legal: np.ndarray  # (D, 7) the focal agent's legal actions at the root


@numba.njit(cache=True)
def _select(
    active, children, visits, value_sum, prior, legal, terminal, c_puct, path_nodes, path_actions
):
    """PUCT descent in every active tree; returns (leaf parent, action or -1, path length)."""
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
                    score = value_sum[tr, node, a] / (1 + n) + c_puct * prior[tr, node, a] * sq / (
                        1 + n
                    )
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
    for tr in range(leaf_value.shape[0]):
        if not active[tr]:
            continue
        g = leaf_value[tr]
        for d in range(depth[tr] - 1, -1, -1):
            node, a = path_nodes[tr, d], path_actions[tr, d]
            g = reward[tr, node, a] + gamma * g
            value_sum[tr, node, a] += g
            visits[tr, node, a] += 1


class _Forest:
    """The preallocated arrays of T trees with room for ``capacity`` nodes each."""

    def __init__(self, config: StagHuntConfig, n_trees: int, capacity: int) -> None:
        k = config.num_players - 1
        shape = (n_trees, capacity, NUM_ACTIONS)
        self.capacity = capacity
        self.states = GameState.zeros(config, n_trees * capacity)
        self.children = np.full(shape, -1, dtype=np.int64)
        self.visits = np.zeros(shape, dtype=np.int64)
        self.value_sum = np.zeros(shape, dtype=np.float64)
        self.prior = np.zeros(shape, dtype=np.float64)
        self.reward = np.zeros(shape, dtype=np.float64)
        self.legal = np.zeros(shape, dtype=bool)
        self.terminal = np.zeros((n_trees, capacity), dtype=bool)
        self.opponent = np.zeros((n_trees, capacity, k, NUM_ACTIONS), dtype=np.float64)
        self.opponent_ready = np.zeros((n_trees, capacity), dtype=bool)
        self.count = np.ones(n_trees, dtype=np.int64)
        self.owner = np.zeros(n_trees, dtype=np.int64)


def search(
    config: StagHuntConfig,
    settings: SearchSettings,
    roots: GameState,
    focal: np.ndarray,
    goals: np.ndarray,
    seeds: np.ndarray,
    policy_value: PolicyValueFn | Sequence[PolicyValueFn],
    opponents: OpponentModel | Sequence[OpponentModel],
    owner: np.ndarray | None = None,
) -> SearchResult:
    """Search D decisions at once, ``settings.num_trees`` trees each.

    roots: D game states; focal: (D,) the deciding player of each; goals: (D, trees, N-1) the
    goal index sampled for each co-player seat (seat k = player (focal + k) mod N) in each tree;
    seeds: (D,) uint64. ``policy_value(grids, t, masks) -> (priors (M, 7), values (M,))``;
    ``opponents.probs(grids (M, K, ...), t, masks, present) -> (M, K, G, 7)`` (an OpponentModel). Decisions of agents with
    different networks share the waves: pass lists of both and ``owner`` (D,), the index of each
    decision's networks; each wave then makes one call per network.
    """
    if owner is None:
        policy_value, opponents = [policy_value], [opponents]
        owner = np.zeros(roots.batch_size, dtype=np.int64)
    n_dec, n_trees = roots.batch_size, settings.num_trees
    n = config.num_players
    total = n_dec * n_trees
    forest = _Forest(config, total, settings.num_simulations + 1)
    forest.owner = np.repeat(np.asarray(owner, dtype=np.int64), n_trees)
    cap = forest.capacity
    focal_t = np.repeat(np.asarray(focal, dtype=np.int64), n_trees)
    goals_t = np.asarray(goals, dtype=np.int64).reshape(total, n - 1)
    tree_seeds = hash64(
        np.repeat(np.asarray(seeds, dtype=np.uint64), n_trees) * _GOLDEN
        + np.tile(np.arange(n_trees, dtype=np.uint64), n_dec)
    )
    seats = (focal_t[:, None] + np.arange(1, n)[None, :]) % n  # (T, K) co-players' indices
    trees = np.arange(total)
    forest.states.assign(trees * cap, roots.select(np.repeat(np.arange(n_dec), n_trees)))
    _evaluate(forest, trees, np.zeros(total, dtype=np.int64), focal_t, policy_value)
    if settings.dirichlet_noise:
        _add_root_noise(forest, tree_seeds, settings)
    path_nodes = np.zeros((total, cap), dtype=np.int64)
    path_actions = np.zeros((total, cap), dtype=np.int64)
    active = ~forest.terminal[:, 0]
    leaf_value = np.zeros(total, dtype=np.float64)
    for sim in range(settings.num_simulations):
        parent, action, depth = _select(
            active,
            forest.children,
            forest.visits,
            forest.value_sum,
            forest.prior,
            forest.legal,
            forest.terminal,
            settings.c_puct,
            path_nodes,
            path_actions,
        )
        leaf_value[:] = 0.0
        ex = np.flatnonzero(action >= 0)
        if ex.size:
            leaf_value[ex] = _expand(
                config, forest, ex, parent[ex], action[ex], focal_t, seats, goals_t,
                stream_uniforms(tree_seeds[ex], sim, n - 1), policy_value, opponents,
            )  # fmt: skip
        _backup(
            active,
            leaf_value,
            path_nodes,
            path_actions,
            depth,
            forest.reward,
            forest.visits,
            forest.value_sum,
            settings.gamma,
        )
    root_q = forest.value_sum[:, 0] / (1 + forest.visits[:, 0])
    return SearchResult(
        q=root_q.reshape(n_dec, n_trees, NUM_ACTIONS),
        visits=forest.visits[:, 0].reshape(n_dec, n_trees, NUM_ACTIONS),
        legal=forest.legal[::n_trees, 0],
    )


def _evaluate(forest, trees, nodes, focal_t, policy_value) -> np.ndarray:
    """Priors, legality and terminal flags of new nodes; returns their values (0 if terminal)."""
    states = forest.states.select(trees * forest.capacity + nodes)
    obs, mask = observe(states)
    rows = np.arange(len(trees))
    focal = focal_t[trees]
    terminal = ~states.alive[rows, focal] | states.over
    forest.terminal[trees, nodes] = terminal
    values = np.zeros(len(trees), dtype=np.float64)
    for o in np.unique(forest.owner[trees[~terminal]]):
        live = np.flatnonzero(~terminal & (forest.owner[trees] == o))
        priors, v = policy_value[o](obs[live, focal[live]], states.t[live], mask[live, focal[live]])
        forest.prior[trees[live], nodes[live]] = priors
        forest.legal[trees[live], nodes[live]] = mask[live, focal[live]] > 0
        values[live] = v
    return values


def _expand(
    config, forest, ex, parents, actions, focal_t, seats, goals_t, uniforms, policy_value, opponents
) -> np.ndarray:
    cap = forest.capacity
    missing = ~forest.opponent_ready[ex, parents]
    if missing.any():
        _cache_opponents(forest, ex[missing], parents[missing], seats, goals_t, opponents)
    probs = forest.opponent[ex, parents]  # (E, K, 7)
    sampled = (probs.cumsum(-1) < uniforms[..., None] * probs.sum(-1, keepdims=True)).sum(-1)
    sampled = np.minimum(sampled, NUM_ACTIONS - 1)
    joint = np.full((len(ex), config.num_players), STAY, dtype=np.int64)
    rows = np.arange(len(ex))
    joint[rows, focal_t[ex]] = actions
    joint[rows[:, None], seats[ex]] = sampled
    states = forest.states.select(ex * cap + parents)
    _, rewards, _, _ = rules_step(config, states, joint, inplace=True)
    child = forest.count[ex].copy()
    forest.count[ex] += 1
    forest.states.assign(ex * cap + child, states)
    forest.children[ex, parents, actions] = child
    forest.reward[ex, parents, actions] = rewards[rows, focal_t[ex]]
    return _evaluate(forest, ex, child, focal_t, policy_value)


def _cache_opponents(forest, trees, nodes, seats, goals_t, opponents) -> None:
    """Co-players' action distributions at these nodes, under each tree's sampled goals."""
    states = forest.states.select(trees * forest.capacity + nodes)
    obs, mask = observe(states)
    rows = np.arange(len(trees))[:, None]
    views, masks = obs[rows, seats[trees]], mask[rows, seats[trees]]  # (M, K, ...)
    k = np.arange(seats.shape[1])[None, :]
    for o in np.unique(forest.owner[trees]):
        sel = np.flatnonzero(forest.owner[trees] == o)
        present = states.alive[sel[:, None], seats[trees[sel]]]
        probs = opponents[o].probs(views[sel], states.t[sel], masks[sel], present)  # (m,K,G,7)
        goal = np.minimum(goals_t[trees[sel]], probs.shape[2] - 1)
        forest.opponent[trees[sel], nodes[sel]] = probs[np.arange(len(sel))[:, None], k, goal]
    forest.opponent_ready[trees, nodes] = True


def _add_root_noise(forest, tree_seeds, settings: SearchSettings) -> None:
    for tr in np.flatnonzero(~forest.terminal[:, 0]):
        legal = np.flatnonzero(forest.legal[tr, 0])
        rng = np.random.default_rng(int(tree_seeds[tr]))
        noise = rng.dirichlet(np.full(len(legal), settings.dirichlet_alpha))
        eps = settings.dirichlet_epsilon
        forest.prior[tr, 0, legal] = (1 - eps) * forest.prior[tr, 0, legal] + eps * noise
