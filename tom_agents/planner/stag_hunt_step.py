"""The stag hunt as the search's model: the recurrent function of HOP's planner (SPEC section 2).

A node's embedding is a game state, kept here by (tree, node). Expanding an edge samples the
co-players' actions from the opponent model under the tree's sampled goals (their distribution
cached per node: one opponent forward per node, not per expansion), steps the shared rules
engine on all expanded edges at once and evaluates the new states with one policy-value
forward per network (or, with ``leaf_value="rollout"``, values them by goal-directed rollouts:
:mod:`~.rollouts`). Decisions of agents with different networks share the waves: ``owner``
says whose networks each decision uses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from staghunt_env import GameState, StagHuntConfig
from staghunt_env.observe import observe
from staghunt_env.rules import step as rules_step
from staghunt_env.spec import NUM_ACTIONS, STAY

from ..opponents import OpponentModel
from ..search import (
    RecurrentOutput,
    RootOutput,
    SearchResult,
    SearchSettings,
    hash64,
    search,
    stream_uniforms,
    tree_seeds,
)
from .kinds import act_probs
from .rollouts import rollout_values

# policy_value(grids (M, H, W, C), t (M,), masks (M, 7)) -> (priors (M, 7), values (M,))
PolicyValueFn = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class StagHuntModel:
    """The game states of every node of D x trees trees, and the recurrent function over them.

    Tree ``i`` belongs to decision ``i // num_trees``; its co-player seat k (player (focal + k)
    mod N) pursues goal ``goals[i, k - 1]``. Random draws come from the tree's own streams.
    """

    def __init__(
        self,
        config: StagHuntConfig,
        settings: SearchSettings,
        roots: GameState,
        focal: np.ndarray,
        goals: np.ndarray,
        seeds: np.ndarray,
        policy_value: Sequence[PolicyValueFn],
        opponents: Sequence[OpponentModel],
        owner: np.ndarray,
        leaf_value: str = "net",
    ) -> None:
        n_dec, n_trees, n = roots.batch_size, settings.num_trees, config.num_players
        total = n_dec * n_trees
        self.config = config
        self.gamma = settings.gamma
        self.rollouts = leaf_value == "rollout"
        self.policy_value = policy_value
        self.opponents = opponents
        self.capacity = settings.num_simulations + 1
        self.owner = np.repeat(np.asarray(owner, dtype=np.int64), n_trees)
        self.focal = np.repeat(np.asarray(focal, dtype=np.int64), n_trees)
        self.goals = np.asarray(goals, dtype=np.int64).reshape(total, n - 1)
        self.seeds = tree_seeds(seeds, n_trees)
        self.seats = (self.focal[:, None] + np.arange(1, n)[None, :]) % n  # (T, K) co-players
        self.states = GameState.zeros(config, total * self.capacity)
        self.states.assign(
            np.arange(total) * self.capacity, roots.select(np.repeat(np.arange(n_dec), n_trees))
        )
        self.opponent = np.zeros((total, self.capacity, n - 1, NUM_ACTIONS), dtype=np.float64)
        self.opponent_ready = np.zeros((total, self.capacity), dtype=bool)

    def root(self) -> RootOutput:
        """Every tree's root evaluated (one policy-value forward per network)."""
        trees = np.arange(len(self.focal))
        prior, legal, value, terminal = self._evaluate(trees, np.zeros_like(trees))
        return RootOutput(prior, legal, value, terminal)

    def __call__(
        self,
        trees: np.ndarray,
        parents: np.ndarray,
        actions: np.ndarray,
        children: np.ndarray,
        simulation: int,
    ) -> RecurrentOutput:
        """Step edge (parent, focal action) of each tree with sampled co-player actions."""
        cap = self.capacity
        missing = ~self.opponent_ready[trees, parents]
        if missing.any():
            self._cache_opponents(trees[missing], parents[missing])
        uniforms = stream_uniforms(self.seeds[trees], simulation, self.seats.shape[1])
        probs = self.opponent[trees, parents]  # (E, K, 7)
        sampled = (probs.cumsum(-1) < uniforms[..., None] * probs.sum(-1, keepdims=True)).sum(-1)
        sampled = np.minimum(sampled, NUM_ACTIONS - 1)
        rows = np.arange(len(trees))
        joint = np.full((len(trees), self.config.num_players), STAY, dtype=np.int64)
        joint[rows, self.focal[trees]] = actions
        joint[rows[:, None], self.seats[trees]] = sampled
        states = self.states.select(trees * cap + parents)
        rewards = rules_step(self.config, states, joint, inplace=True)[1]
        self.states.assign(trees * cap + children, states)
        prior, legal, value, terminal = self._evaluate(trees, children)
        return RecurrentOutput(rewards[rows, self.focal[trees]], prior, legal, value, terminal)

    def _evaluate(self, trees: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, ...]:
        """(prior, legal, value, terminal) of these nodes for their trees' focal players (the
        values by rollouts when asked)."""
        states = self.states.select(trees * self.capacity + nodes)
        obs, mask = observe(states)
        rows = np.arange(len(trees))
        focal = self.focal[trees]
        terminal = ~states.alive[rows, focal] | states.over
        prior = np.zeros((len(trees), NUM_ACTIONS), dtype=np.float64)
        legal = mask[rows, focal] > 0
        value = np.zeros(len(trees), dtype=np.float64)
        for o in np.unique(self.owner[trees[~terminal]]):
            live = np.flatnonzero(~terminal & (self.owner[trees] == o))
            prior[live], value[live] = self.policy_value[o](
                obs[live, focal[live]], states.t[live], mask[live, focal[live]]
            )
        live = np.flatnonzero(~terminal)
        if self.rollouts and live.size:
            seeds = hash64(self.seeds[trees[live]] + hash64(nodes[live].astype(np.uint64)))
            value[live] = rollout_values(
                self.config, states.select(live), focal[live], self.goals[trees[live]],
                self.gamma, seeds,
            )  # fmt: skip
        return prior, legal, value, terminal

    def _cache_opponents(self, trees: np.ndarray, nodes: np.ndarray) -> None:
        """Co-players' action distributions at these nodes, under each tree's sampled goals."""
        states = self.states.select(trees * self.capacity + nodes)
        obs, mask = observe(states)
        rows = np.arange(len(trees))[:, None]
        seats = self.seats[trees]
        views, masks = obs[rows, seats], mask[rows, seats]  # (M, K, ...)
        for o in np.unique(self.owner[trees]):
            sel = np.flatnonzero(self.owner[trees] == o)
            present = states.alive[sel[:, None], seats[sel]]
            probs = self.opponents[o].probs(views[sel], states.t[sel], masks[sel], present)
            goals = self.goals[trees[sel]]
            self.opponent[trees[sel], nodes[sel]] = act_probs(probs, masks[sel], goals)
        self.opponent_ready[trees, nodes] = True


def search_decisions(
    config: StagHuntConfig,
    settings: SearchSettings,
    roots: GameState,
    focal: np.ndarray,
    goals: np.ndarray,
    seeds: np.ndarray,
    policy_value: PolicyValueFn | Sequence[PolicyValueFn],
    opponents: OpponentModel | Sequence[OpponentModel],
    owner: np.ndarray | None = None,
    leaf_value: str = "net",
) -> SearchResult:
    """Search D decisions at once, ``settings.num_trees`` trees each.

    roots: D game states; focal: (D,) the deciding player of each; goals: (D, trees, N-1) the
    goal index sampled for each co-player seat (seat k = player (focal + k) mod N) in each tree;
    seeds: (D,) uint64. ``policy_value(grids, t, masks) -> (priors (M, 7), values (M,))``;
    ``opponents.probs(grids (M, K, ...), t, masks, present) -> (M, K, G, 7)``. With ``owner``
    (D,), pass lists of both: decision d uses networks ``owner[d]``, and each wave makes one
    call per network. ``leaf_value``: "net" or "rollout" (:mod:`~.rollouts`). Returns q and
    visits (D, trees, 7), legal (D, 7).
    """
    if owner is None:
        policy_value, opponents = [policy_value], [opponents]
        owner = np.zeros(roots.batch_size, dtype=np.int64)
    model = StagHuntModel(
        config, settings, roots, focal, goals, seeds, policy_value, opponents, owner, leaf_value
    )
    result = search(model.root(), model, settings, model.seeds)
    return result.per_decision(settings.num_trees)
