"""Goal beliefs (SPEC section 2): the pure update rules, and the HOP agent's beliefs in play."""

import numpy as np
import pytest

import staghunt_env
from staghunt_env import STAY
from tom_agents import beliefs, make_agent
from tom_agents.runner import note_catches

LAMBDA = 0.995  # the original's discount of the goal counts


# --------------------------------------------------------------------------- pure functions


def test_bayes_update_matches_a_hand_computation():
    # 0.5 * 0.2 = 0.1 and 0.5 * 0.05 = 0.025, renormalised: 0.1 / 0.125 = 0.8
    out = beliefs.bayes_update(
        np.array([[0.5, 0.5]]), np.array([[0.2, 0.05]]), np.full((1, 2), 0.5)
    )
    np.testing.assert_allclose(out, [[0.8, 0.2]], rtol=0, atol=1e-12)


def test_bayes_update_handles_several_co_players_at_once():
    belief = np.array([[0.5, 0.5], [0.3, 0.7], [0.9, 0.1], [0.2, 0.8]])
    likelihood = np.array([[0.2, 0.05], [0.1, 0.1], [0.0, 0.0], [0.0, 0.5]])
    prior = np.array([[0.5, 0.5], [0.5, 0.5], [0.25, 0.75], [0.6, 0.4]])
    out = beliefs.bayes_update(belief, likelihood, prior)
    expected = [
        [0.8, 0.2],  # 0.1 : 0.025
        [0.3, 0.7],  # equal likelihoods change nothing
        [0.25, 0.75],  # every likelihood zero: back to this co-player's prior
        [0.0, 1.0],  # one goal ruled out
    ]
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out.sum(-1), 1.0)


def test_prior_from_counts_is_uniform_for_zero_counts_and_proportional_otherwise():
    counts = np.array([[0.0, 0.0], [3.0, 1.0], [0.0, 2.5], [0.995, 1.0]])
    expected = [[0.5, 0.5], [0.75, 0.25], [0.0, 1.0], [0.995 / 1.995, 1.0 / 1.995]]
    np.testing.assert_allclose(beliefs.prior_from_counts(counts), expected, rtol=0, atol=1e-12)
    # leading dimensions are kept
    stacked = beliefs.prior_from_counts(np.stack([counts, counts]))
    assert stacked.shape == (2, 4, 2)
    np.testing.assert_allclose(stacked[1], expected, rtol=0, atol=1e-12)


def test_update_counts_follows_the_discounted_count_formula_over_episodes():
    # two co-players; realised goal per episode (0 stag, 1 hare, -1 none)
    episodes = [[0, -1], [1, 1], [-1, 0], [0, 0]]
    counts = np.zeros((2, 2))
    for realised in episodes:
        counts = beliefs.update_counts(counts, np.array(realised), LAMBDA)
    lam = LAMBDA
    expected = [
        # co-player 1: stag (ep 1), hare (ep 2), none (ep 3), stag (ep 4)
        [lam**3 + 1, lam**2],
        # co-player 2: none, hare, stag, stag
        [lam + 1, lam**2],
    ]
    np.testing.assert_allclose(counts, expected, rtol=0, atol=1e-12)
    # -1 only discounts; the input array is left alone
    before = np.array([[2.0, 1.0]])
    after = beliefs.update_counts(before, np.array([-1]), 0.5)
    np.testing.assert_allclose(after, [[1.0, 0.5]])
    np.testing.assert_allclose(before, [[2.0, 1.0]])


def test_wander_counts_add_the_evidence_of_judged_coplayers_that_caught_nothing_only():
    # co-players: caught nothing and judged; caught a hare; caught nothing, too little seen
    counts, episodes = beliefs.update_wander_counts(
        np.array([0.5, 0.2, 0.4]), np.array([1.0, 1.0, 1.0]), np.array([-1, 1, -1]),
        np.array([0.9, 0.9, 0.9]), np.array([True, True, False]), 0.5,
    )  # fmt: skip
    np.testing.assert_allclose(counts, [0.25 + 0.9, 0.1, 0.2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(episodes, [1.5, 1.5, 0.5], rtol=0, atol=1e-12)
    # one more walked episode: 0 before any, never 1
    assert np.all(beliefs.wanderer_prior_from_counts(np.zeros(2), np.zeros(2)) == 0)
    np.testing.assert_allclose(
        beliefs.wanderer_prior_from_counts(counts, episodes), counts / (episodes + 1)
    )
    assert beliefs.wanderer_prior_from_counts(np.array([1.0]), np.array([1.0]))[0] == 0.5


def test_judged_catches_add_their_wandering_and_count_their_goal_by_the_rest():
    # co-players: a judged catch (hare), an unjudged catch (stag), caught nothing
    realised, wandered = np.array([1, 0, -1]), np.array([0.75, 0.9, 0.6])
    judged_catches = np.array([True, False, False])
    counts, episodes = beliefs.update_wander_counts(
        np.zeros(3), np.zeros(3), realised, wandered, np.ones(3, bool), 0.5, judged_catches
    )
    np.testing.assert_allclose(counts, [0.75, 0.0, 0.6], rtol=0, atol=1e-12)
    np.testing.assert_allclose(episodes, [1.0, 1.0, 1.0])
    goals = beliefs.update_counts(np.ones((3, 2)), realised, 0.5, weights=np.array([0.25, 1, 1]))
    np.testing.assert_allclose(goals, [[0.5, 0.75], [1.5, 0.5], [0.5, 0.5]], rtol=0, atol=1e-12)


def test_with_wanderers_takes_one_prior_for_all_or_one_per_coplayer():
    goals = np.array([[0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_allclose(beliefs.with_wanderers(goals, 0.2), [[0.4, 0.4, 0.2], [0.8, 0, 0.2]])
    np.testing.assert_allclose(
        beliefs.with_wanderers(goals, np.array([0.0, 0.5])), [[0.5, 0.5, 0.0], [0.5, 0, 0.5]]
    )


# --------------------------------------------------------------------------- through the agent

# Seat "F" is the focal HOP agent, far from every prey; "S" walks right along row 3 to the stag
# (moving away from every hare); "R" walks left along row 6 to a hare (away from the stag).
LAYOUT = [
    "...F....",
    "........",
    "........",
    "H...S..X",  # X: the stag (S is a seat until the digits are chosen)
    "........",
    "........",
    "H..R....",
]


def layout_for(focal: int, stag_goer: int, hare_goer: int) -> list[str]:
    table = str.maketrans({"F": str(focal), "S": str(stag_goer), "R": str(hare_goer), "X": "S"})
    return [row.translate(table) for row in LAYOUT]


def seat_row(focal: int, player: int, n: int = 3) -> int:
    """Row of ``agent.seat.belief`` for ``player``: seat k = (player - focal) mod N, row k - 1."""
    return (player - focal) % n - 1


def small_hop(config, seed=0):
    return make_agent(
        "hop",
        env_config=config,
        seed=seed,
        opponent_model="scripted",
        num_trees=1,
        num_simulations=10,
    )


@pytest.mark.parametrize("focal, stag_goer, hare_goer", [(0, 1, 2), (1, 2, 0), (2, 1, 0)])
def test_hop_beliefs_identify_a_stag_goer_and_a_hare_goer(focal, stag_goer, hare_goer):
    env = staghunt_env.parallel_env(layout=layout_for(focal, stag_goer, hare_goer))
    observations, infos = env.reset(seed=0)
    hop = small_hop(env.config)
    players = {
        f"hunter_{stag_goer}": make_agent("nearest_stag", env_config=env.config),
        f"hunter_{hare_goer}": make_agent("nearest_hare", env_config=env.config),
    }
    me = f"hunter_{focal}"
    hop.reset(me)
    for agent_id, agent in players.items():
        agent.reset(agent_id)
    s, r = seat_row(focal, stag_goer), seat_row(focal, hare_goer)
    beliefs_seen = []
    for _ in range(4):  # decisions at t = 0..3: the last one has seen 3 co-player steps
        actions = {a: p.act(observations[a], infos[a]) for a, p in players.items()}
        actions[me] = hop.act(observations[me], infos[me])
        beliefs_seen.append(hop.seat.belief.copy())
        observations, _, _, _, infos = env.step(actions)
    assert hop.seat.belief.shape == (2, 2)
    np.testing.assert_allclose(beliefs_seen[0], 0.5)  # no evidence yet: the uniform prior
    # one step, computed by hand from the scripted model (epsilon = 0.05 spread over the legal
    # actions): the stag-goer's RIGHT has likelihood 0.95 + 0.05/5 under "stag" and 0.05/5
    # under "hare" (5 legal actions); the hare-goer's LEFT 0.05/4 under "stag" and 0.95 + 0.05/4
    # under "hare" (DOWN is off the grid: 4 legal actions).
    np.testing.assert_allclose(beliefs_seen[1][s], [0.96 / 0.97, 0.01 / 0.97], atol=1e-5)
    np.testing.assert_allclose(beliefs_seen[1][r], [0.0125 / 0.975, 0.9625 / 0.975], atol=1e-5)
    # the requirement: certain (> 0.9) within 3 of the co-player's steps
    assert beliefs_seen[3][s, 0] > 0.9, beliefs_seen
    assert beliefs_seen[3][r, 1] > 0.9, beliefs_seen
    assert hop.seat.realised.tolist() == [-1, -1], "nobody has caught anything yet"


def run_episode(hop, lineup: dict[str, str]):
    """Play one episode: the focal hunter_0 perceives (its act is called) but always STAYs."""
    env = staghunt_env.parallel_env(layout=layout_for(0, 1, 2), max_cycles=12)
    observations, infos = env.reset(seed=0)
    players = {a: make_agent(name, env_config=env.config) for a, name in lineup.items()}
    hop.reset("hunter_0")
    for agent_id, agent in players.items():
        agent.reset(agent_id)
    outcome = {}
    while env.agents:
        actions = {a: players[a].act(observations[a], infos[a]) for a in env.agents if a in players}
        if "hunter_0" in env.agents:
            hop.act(observations["hunter_0"], infos["hunter_0"])
            actions["hunter_0"] = STAY
        observations, _, _, _, infos = env.step(actions)
        note_catches(outcome, infos)
    hop.end_episode(outcome)


def test_the_inter_episode_prior_follows_the_discounted_counts():
    config = staghunt_env.parallel_env(layout=layout_for(0, 1, 2), max_cycles=12).config
    hop = small_hop(config)
    lam = LAMBDA
    episodes = [
        # hunter_1 and hunter_2 both walk to the stag and catch it together
        ({"hunter_1": "nearest_stag", "hunter_2": "nearest_stag"}, [0, 0]),
        # both catch a hare
        ({"hunter_1": "nearest_hare", "hunter_2": "nearest_hare"}, [1, 1]),
        # hunter_1 waits on the stag alone (no goal realised); hunter_2 catches a hare
        ({"hunter_1": "nearest_stag", "hunter_2": "nearest_hare"}, [-1, 1]),
    ]
    expected_counts = [
        [[1, 0], [1, 0]],
        [[lam, 1], [lam, 1]],
        [[lam * lam, lam], [lam * lam, lam + 1]],
    ]
    hop.reset("hunter_0")
    np.testing.assert_allclose(hop.seat.prior, 0.5)
    for (lineup, realised), counts in zip(episodes, expected_counts):
        run_episode(hop, lineup)
        assert hop.seat.realised.tolist() == realised
        np.testing.assert_allclose(hop.seat.goal_counts, counts, rtol=0, atol=1e-12)
        hop.reset("hunter_0")
        counts = np.array(counts, dtype=float)
        expected_prior = counts / counts.sum(-1, keepdims=True)
        np.testing.assert_allclose(hop.seat.prior, expected_prior, rtol=0, atol=1e-12)
        np.testing.assert_allclose(hop.seat.belief, expected_prior, rtol=0, atol=1e-12)
