"""The game-agnostic search (tom_agents.search) and the stag hunt as its model.

A toy game small enough to work out by hand pins PUCT, backup, discounting and terminal
handling; the stag-hunt model is checked against the naive reference of the original design
(benchmarks.reference.naive_mcts) and against itself searched in other batches.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.reference.naive_mcts import NaiveNets, naive_search, random_decisions
from staghunt_env import BatchedStagHunt, GameState
from tom_agents.planner.networks import PlannerNetworks
from tom_agents.planner.options import PlannerOptions
from tom_agents.planner.stag_hunt_step import search_decisions
from tom_agents.search import (
    RecurrentOutput,
    RootOutput,
    SearchResult,
    SearchSettings,
    search,
    tree_seeds,
)

# ----------------------------------------------------------------------------- a toy game
# Two moves (a third action is illegal everywhere), depth 2, deterministic. A state is the
# string of moves so far; the game ends after two moves.
TOY_PRIOR = {"": [0.6, 0.4, 0.9], "0": [0.5, 0.5, 0.9], "1": [0.5, 0.5, 0.9]}
TOY_VALUE = {"": 0.0, "0": 0.5, "1": 0.2}
TOY_REWARD = {"0": 0.0, "1": 0.0, "00": 1.0, "01": 0.0, "10": 0.0, "11": 2.0}
TOY_LEGAL = [True, True, False]


class ToyGame:
    """The recurrent function of the toy game; ``scale[i]`` multiplies tree i's rewards."""

    def __init__(self, num_trees: int, capacity: int, scale=None, terminal_root=()) -> None:
        self.states = [[""] * capacity for _ in range(num_trees)]
        self.scale = np.ones(num_trees) if scale is None else np.asarray(scale, dtype=float)
        self.terminal_root = np.isin(np.arange(num_trees), terminal_root)
        self.calls: list[tuple[list[int], ...]] = []

    def root(self) -> RootOutput:
        n = len(self.states)
        return RootOutput(
            prior=np.tile(TOY_PRIOR[""], (n, 1)),
            legal=np.tile(TOY_LEGAL, (n, 1)),
            value=np.zeros(n),
            terminal=self.terminal_root.copy(),
        )

    def __call__(self, trees, parents, actions, children, simulation) -> RecurrentOutput:
        self.calls.append(tuple(x.tolist() for x in (trees, parents, actions, children)))
        new = [self.states[t][p] + str(a) for t, p, a in zip(trees, parents, actions)]
        for t, c, s in zip(trees, children, new):
            self.states[t][c] = s
        return RecurrentOutput(
            reward=np.array([TOY_REWARD[s] for s in new]) * self.scale[trees],
            prior=np.array([TOY_PRIOR.get(s, [0.0, 0.0, 0.0]) for s in new]),
            legal=np.tile(TOY_LEGAL, (len(new), 1)),
            value=np.array([TOY_VALUE.get(s, 99.0) for s in new]),  # 99: must be ignored
            terminal=np.array([len(s) == 2 for s in new]),
        )


def toy_search(simulations: int, gamma: float = 0.5, **game) -> tuple:
    settings = SearchSettings(num_trees=1, num_simulations=simulations, gamma=gamma)
    n = len(game.get("scale", [1]))
    toy = ToyGame(n, simulations + 1, **game)
    return search(toy.root(), toy, settings), toy


def test_toy_game_visits_and_q_by_hand():
    # c_puct 1, gamma 0.5. sim 0: scores 0.6 / 0.4 -> expand "0" (value 0.5): W0 = 0.25.
    # sim 1: 0.25/2 + 0.6*sqrt(2)/2 = 0.549 < 0.4*sqrt(2) = 0.566 -> expand "1" (0.2): W1 = 0.1.
    # sim 2: 0.645 vs 0.396 -> "0", then the tie 0.5 / 0.5 -> the first: "00", reward 1,
    #   terminal (value 0): W(0,0) = 1; W0 = 0.25 + 0.5 = 0.75.
    # sim 3: 0.65 vs 0.45 -> "0"; 0.854 vs 0.707 -> "00" again: terminal, nothing to expand,
    #   its reward is backed up again: W(0,0) = 2; W0 = 1.25.
    result, toy = toy_search(4)
    tree = result.tree
    assert result.visits.tolist() == [[3, 1, 0]]
    assert result.q[0] == pytest.approx([1.25 / 4, 0.1 / 2, 0.0], abs=1e-15)
    assert result.legal.tolist() == [TOY_LEGAL]
    assert tree.visits[0, 1].tolist() == [2, 0, 0]
    assert tree.value_sum[0, 1].tolist() == [2.0, 0.0, 0.0]
    assert tree.children[0, 0].tolist() == [1, 2, -1]
    assert tree.children[0, 1].tolist() == [3, -1, -1]
    assert tree.count.tolist() == [4]
    assert tree.terminal[0, :4].tolist() == [False, False, False, True]
    assert tree.raw_value[0, :4].tolist() == [0.0, 0.5, 0.2, 0.0]  # 99 of the terminal: ignored
    assert toy.calls == [([0], [0], [0], [1]), ([0], [0], [1], [2]), ([0], [1], [0], [3])]


def test_toy_game_undiscounted_search_stays_on_the_rewarding_branch():
    # gamma 1. sim 0: expand "0": W0 = 0.5. sim 1: 0.5/2 + 0.6*sqrt(2)/2 = 0.674 > 0.566 -> "0",
    # "00" (reward 1, terminal): W0 = 1.5. sim 2: 0.846 > 0.693; 0.854 > 0.707 -> "00": W0 = 2.5.
    # sim 3: 0.925 > 0.8; 0.955 > 0.866 -> "00": W0 = 3.5. "1" is never expanded.
    result, toy = toy_search(4, gamma=1.0)
    assert result.visits.tolist() == [[4, 0, 0]]
    assert result.q[0] == pytest.approx([3.5 / 5, 0.0, 0.0], abs=1e-15)
    assert len(toy.calls) == 2


def test_terminal_root_is_not_searched():
    result, toy = toy_search(4, scale=[1.0, 1.0], terminal_root=[0])
    assert result.visits[0].tolist() == [0, 0, 0]
    assert result.q[0].tolist() == [0.0, 0.0, 0.0]
    assert not result.legal[0].any()
    assert all(0 not in trees for trees, *_ in toy.calls)
    assert result.visits[1].tolist() == [3, 1, 0]


def test_toy_trees_do_not_depend_on_their_batch_neighbours():
    scales = [1.0, 3.0, 0.1]
    batch, _ = toy_search(12, scale=scales)
    for i, s in enumerate(scales):
        alone, _ = toy_search(12, scale=[s])
        assert np.array_equal(alone.visits[0], batch.visits[i])
        assert np.array_equal(alone.q[0], batch.q[i])


def test_root_noise_is_seeded_per_tree_and_only_on_legal_actions():
    settings = SearchSettings(
        num_trees=1, num_simulations=3, dirichlet_noise=True, dirichlet_alpha=0.5
    )
    seeds = np.array([11, 12], dtype=np.uint64)
    results = []
    for _ in range(2):
        toy = ToyGame(2, 4)
        results.append(search(toy.root(), toy, settings, seeds))
    prior = results[0].tree.prior[:, 0]
    assert np.array_equal(prior, results[1].tree.prior[:, 0])
    assert not np.array_equal(prior[0], prior[1])
    for tr in range(2):
        noise = np.random.default_rng(int(seeds[tr])).dirichlet([0.5, 0.5])
        expected = 0.75 * np.array(TOY_PRIOR[""][:2]) + 0.25 * noise
        assert prior[tr, :2] == pytest.approx(expected, abs=1e-15)
        assert prior[tr, 2] == TOY_PRIOR[""][2]  # illegal: untouched
    toy = ToyGame(1, 4)
    alone = search(toy.root(), toy, settings, seeds[1:])
    assert np.array_equal(alone.tree.prior[0, 0], prior[1])
    with pytest.raises(ValueError, match="seed"):
        search(toy.root(), toy, settings)


@pytest.mark.parametrize("field, value", [("num_trees", 0), ("num_simulations", 0), ("gamma", 1.5)])
def test_settings_are_validated(field, value):
    with pytest.raises(ValueError, match=field):
        SearchSettings(**{field: value})


# ----------------------------------------------------------------------------- the stag hunt


@pytest.fixture(scope="module")
def networks() -> PlannerNetworks:
    """Small, untrained HOP networks (goal-conditioned learned opponents)."""
    options = PlannerOptions(channels=(4, 8, 8), hidden=32)
    return PlannerNetworks(BatchedStagHunt(1).config, options, init_seed=3, device="cpu")


def run(
    networks: PlannerNetworks,
    settings: SearchSettings,
    roots: GameState,
    focal: np.ndarray,
    goals: np.ndarray,
    seeds: np.ndarray,
) -> SearchResult:
    return search_decisions(
        networks.config, settings, roots, focal, goals, seeds,
        networks.evaluate_policy_value, networks.opponents,
    )  # fmt: skip


def test_naive_reference_equals_the_batched_search(networks):
    settings = SearchSettings(num_trees=2, num_simulations=12)
    roots, focal, goals, seeds = random_decisions(3, 5, 5, num_trees=2, steps=3)
    batched = run(networks, settings, roots, focal, goals, seeds)
    nets = NaiveNets(networks.policy_value, networks.opponents.nets, padded=True)
    for i in range(3):
        q, visits = naive_search(
            networks.config, settings, roots, i, int(focal[i]), goals[i], seeds[i], nets
        )
        assert np.array_equal(visits, batched.visits[i])
        assert np.array_equal(q, batched.q[i])
    assert batched.visits.sum(-1).tolist() == [[12, 12]] * 3


def test_stag_hunt_decisions_do_not_depend_on_their_batch(networks):
    settings = SearchSettings(num_trees=2, num_simulations=10, dirichlet_noise=True)
    roots, focal, goals, seeds = random_decisions(4, 9, 9, num_trees=2, steps=3)
    roots.over[2] = True  # a finished game: its trees are not searched
    batch = run(networks, settings, roots, focal, goals, seeds)
    assert batch.q.shape == batch.visits.shape == (4, 2, 7)
    assert batch.legal.shape == (4, 7)
    assert not batch.visits[2].any() and not batch.legal[2].any()
    for i in (3, 0, 1):
        one = run(networks, settings, roots.select([i]), focal[[i]], goals[[i]], seeds[[i]])
        assert np.array_equal(one.visits[0], batch.visits[i])
        assert np.array_equal(one.q[0], batch.q[i])
    again = run(networks, settings, roots, focal, goals, seeds)
    assert np.array_equal(again.q, batch.q) and np.array_equal(again.visits, batch.visits)


def test_networks_of_several_owners_share_the_waves(networks):
    other = PlannerNetworks(networks.config, networks.options, init_seed=4, device="cpu")
    settings = SearchSettings(num_trees=2, num_simulations=8)
    roots, focal, goals, seeds = random_decisions(3, 13, 13, num_trees=2, steps=3)
    owner = np.array([1, 0, 1])
    mixed = search_decisions(
        networks.config, settings, roots, focal, goals, seeds,
        [networks.evaluate_policy_value, other.evaluate_policy_value],
        [networks.opponents, other.opponents], owner=owner,
    )  # fmt: skip
    for i, o in enumerate(owner):
        nets = (networks, other)[o]
        one = run(nets, settings, roots.select([i]), focal[[i]], goals[[i]], seeds[[i]])
        assert np.array_equal(one.visits[0], mixed.visits[i])
        assert np.array_equal(one.q[0], mixed.q[i])


def test_tree_seeds_are_per_decision_and_tree():
    seeds = tree_seeds(np.array([1, 2], dtype=np.uint64), 3)
    assert len(np.unique(seeds)) == 6
    assert np.array_equal(tree_seeds(np.array([2], dtype=np.uint64), 3), seeds[3:])
