"""How much an episode teaches the goal and wanderer counts: ``judge_catches`` (a catch counts as
a walk to its goal only as much as the moves before it were a walker's; the rest joins the
wanderer counts), ``unoffered_weight`` (an episode without a stag hunt counts less) and
``wanderer_join`` (an episode with one tells who comes to the stag)."""

import numpy as np
import pytest
from test_hop_plus import SCRIPTED_1X4, Stayer, play_episode

import staghunt_env
from staghunt_env import StagHuntConfig
from staghunt_env.spec import HUNT_HARE, HUNT_STAG, LEFT, STAY
from tom_agents import PlannerAgent, make_agent
from tom_agents.planner.agent import Decision
from tom_agents.planner.kinds import MOVES_TO_JUDGE

# hunter_1 is one step right of the hare (DAWDLE) or four (WALK); hunter_0, ten steps from it,
# cannot take it first; hunter_2 stays, so that the stag keeps the episode going after the catch
DAWDLE = ["S....0", "......", "..2...", "......", "......", "H1...."]
WALK = ["S....0", "......", "..2...", "......", "......", "H...1."]


class Dawdler:
    """Stays three times, then steps onto the hare and hunts it: a wanderer's moves, then a
    catch that chance could have brought."""

    def reset(self, agent_id):
        self.t = 0

    def act(self, observation, info):
        self.t += 1
        return [STAY, STAY, STAY, LEFT, HUNT_HARE][min(self.t, 5) - 1]


def one_episode(layout, partner, judge):
    env = staghunt_env.parallel_env(layout=layout, num_players=3, num_hares=1, max_cycles=8)
    agent = make_agent("hop", env.config, seed=0, device="cpu", wanderer_counts=True,
                       judge_catches=judge, **SCRIPTED_1X4)  # fmt: skip
    partner = partner if partner is not None else make_agent("nearest_hare", env.config, seed=1)
    play_episode(agent, partner, env, 0, Stayer())
    return agent


@pytest.mark.parametrize("judge", [False, True])
def test_a_catch_after_a_wanderers_moves_counts_as_wandering_when_judged(judge):
    agent = one_episode(DAWDLE, Dawdler(), judge)
    seat, kinds = agent.seat, agent.seat.kinds
    assert seat.realised[0] == 1 and kinds.moves_seen[0] >= 3, "a hare, after 3 moves seen"
    wandered = kinds.evidence[0, 2]
    assert wandered > 0.9, "three stays: no walker's moves"
    assert kinds.judged_counts[0] == 1.0
    if judge:
        np.testing.assert_allclose(seat.goal_counts[0], [0.0, 1.0 - wandered], atol=1e-12)
        assert kinds.wander_counts[0] == pytest.approx(wandered)
    else:  # as wanderer_counts began: a catch is a walk to its goal
        assert np.array_equal(seat.goal_counts[0], [0.0, 1.0])
        assert kinds.wander_counts[0] == 0.0
    agent.reset("hunter_0")
    assert kinds.kind[0, 2] == pytest.approx(wandered / 2 if judge else 0.0)


def test_a_walkers_catch_counts_almost_whole_when_judged():
    agent = one_episode(WALK, None, judge=True)
    seat, kinds = agent.seat, agent.seat.kinds
    assert seat.realised[0] == 1 and kinds.moves_seen[0] >= 3
    assert kinds.evidence[0, 2] < 0.01, "straight to the hare"
    assert seat.goal_counts[0, 1] > 0.99 and seat.goal_counts[0, 0] == 0.0
    assert kinds.wander_counts[0] < 0.01 and kinds.judged_counts[0] == 1.0


def test_a_catch_seen_too_briefly_counts_whole_when_judged():
    agent = one_episode(DAWDLE, None, judge=True)
    seat, kinds = agent.seat, agent.seat.kinds
    assert seat.realised[0] == 1 and kinds.moves_seen[0] < 3, "one step and a hunt"
    assert np.array_equal(seat.goal_counts[0], [0.0, 1.0]) and kinds.wander_counts[0] == 0.0


def test_judge_catches_needs_the_wanderer_counts():
    with pytest.raises(ValueError, match=r"judge_catches.*wanderer_counts=True"):
        PlannerAgent(StagHuntConfig(), device="cpu", judge_catches=True)
    make_agent("hop_plus", judge_catches=True)  # hop_plus learns the wanderer counts


def finish_episode(agent, action, realised, wandered):
    """End an episode in which ``agent`` (hunter_0 of 4) chose ``action`` once, its co-players
    caught ``realised`` and their moves were a wanderer's with P ``wandered``."""
    agent.reset("hunter_0")
    agent.seat.previous = (None, 0)
    mask = np.zeros(7, dtype=np.int8)
    mask[[STAY, HUNT_STAG]] = 1
    q = np.zeros((1, 7))
    q[0, action] = 1.0  # the greedy choice
    decision = Decision(state=None, goals=None, seed=np.uint64(0), mask=mask)
    assert agent.finish(decision, q, np.ones((1, 7), dtype=np.int64)) == action
    agent.seat.realised[:] = realised
    agent.seat.kinds.moves_seen[:] = MOVES_TO_JUDGE
    agent.seat.kinds.evidence[:] = [[(1 - w) / 2, (1 - w) / 2, w] for w in wandered]
    agent.end_episode()


@pytest.mark.parametrize("offered", [False, True])
def test_an_episode_without_a_stag_hunt_teaches_the_counts_unoffered_weight(offered):
    """``unoffered_weight``: what co-players caught while this player never hunted the stag
    counts that much; an episode in which it hunted the stag counts whole."""
    agent = make_agent("hop", StagHuntConfig(), seed=0, device="cpu", wanderer_counts=True,
                       unoffered_weight=0.25, **SCRIPTED_1X4)  # fmt: skip
    finish_episode(agent, HUNT_STAG if offered else STAY, [1, -1, 0], [0.0, 0.8, 0.0])
    assert agent.seat.offered == offered
    weight = 1.0 if offered else 0.25
    np.testing.assert_allclose(agent.seat.goal_counts, [[0, weight], [0, 0], [weight, 0]])
    np.testing.assert_allclose(agent.seat.kinds.wander_counts, [0, 0.8 * weight, 0])
    np.testing.assert_allclose(agent.seat.kinds.judged_counts, [weight] * 3)
    agent.reset("hunter_0")
    assert not agent.seat.offered, "each episode starts without a stag hunt"


def test_unoffered_weight_is_a_share_of_an_episode():
    with pytest.raises(ValueError, match=r"unoffered_weight must be in \[0, 1\]"):
        PlannerAgent(StagHuntConfig(), device="cpu", unoffered_weight=1.5)


def planned(kind, join):
    """(K, 2) what the search samples: each co-player's wanderer share split at its join rate."""
    return np.stack([kind[:, 0] + join * kind[:, 2], kind[:, 1] + (1 - join) * kind[:, 2]], 1)


def test_wanderers_plan_as_stag_walkers_at_the_rate_they_joined_our_stag_hunts():
    """``wanderer_join``: after a stag hunt of this player, a co-player that caught the stag
    joined it, the others did not; an episode without one only discounts the counts; the
    wanderer share of each co-player's kind plans as a stag walker at its join rate."""
    agent = make_agent("hop", StagHuntConfig(), seed=0, device="cpu", wanderer_counts=True,
                       wanderer_join=0.25, **SCRIPTED_1X4)  # fmt: skip
    kinds = agent.seat.kinds
    finish_episode(agent, HUNT_STAG, [0, -1, -1], [0.0, 1.0, 1.0])
    np.testing.assert_allclose(kinds.join_counts, [1, 0, 0])
    np.testing.assert_allclose(kinds.offer_counts, [1, 1, 1])
    finish_episode(agent, STAY, [-1, 0, -1], [1.0, 0.0, 1.0])  # no stag hunt of ours
    np.testing.assert_allclose(kinds.join_counts, [0.995, 0, 0])
    np.testing.assert_allclose(kinds.offer_counts, [0.995] * 3)
    agent.reset("hunter_0")
    join = (np.array([0.995, 0, 0]) + 0.25) / 1.995
    np.testing.assert_allclose(kinds.join, join)
    assert (kinds.kind[:, 2] > 0).all(), "they wandered before"
    np.testing.assert_allclose(agent.seat.belief, planned(kinds.kind, join))
    assert agent.belief_report()["hunter_1"][0] == pytest.approx(agent.seat.belief[0, 0])
    kinds.update(np.full((3, 2), 0.1), np.ones((3, 7)), np.ones((3, 7)), np.ones(3, bool))
    assert kinds.kind[1, 2] > 0.5, "moves no walker explains better than a wanderer"
    np.testing.assert_allclose(kinds.plan_belief, planned(kinds.kind, join))
    other = make_agent("hop", StagHuntConfig(), seed=1, device="cpu", wanderer_counts=True,
                       wanderer_join=0.25, **SCRIPTED_1X4)  # fmt: skip
    other.seat.load_state_dict(agent.seat.state_dict())  # mid-episode: counts, kinds, join
    np.testing.assert_allclose(other.seat.kinds.join, join)
    np.testing.assert_allclose(other.seat.kinds.plan_belief, kinds.plan_belief)


def test_without_wanderer_join_a_wanderer_hunts_no_stag_and_no_join_is_counted():
    agent = make_agent("hop", StagHuntConfig(), seed=0, device="cpu", wanderer_counts=True,
                       **SCRIPTED_1X4)  # fmt: skip
    finish_episode(agent, HUNT_STAG, [0, -1, -1], [0.0, 1.0, 1.0])
    assert not agent.seat.kinds.join_counts.any() and not agent.seat.kinds.offer_counts.any()
    agent.reset("hunter_0")
    kind = agent.seat.kinds.kind
    np.testing.assert_allclose(agent.seat.belief[:, 0], kind[:, 0])


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"wanderer_join": 1.5, "wanderer_counts": True}, r"wanderer_join must be in \[0, 1\]"),
        ({"wanderer_join": 0.25}, r"wanderer_join.*wanderer_counts=True"),
        (
            {"wanderer_join": 0.25, "wanderer_counts": True, "wanderer_model": "random"},
            r"wanderer_join.*wanderer_model='hare'",
        ),
    ],
)
def test_wanderer_join_is_checked(options, match):
    with pytest.raises(ValueError, match=match):
        PlannerAgent(StagHuntConfig(), device="cpu", **options)
