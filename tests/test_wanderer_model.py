"""``wanderer_model="random"``: a co-player sampled as a wanderer moves at random in the search."""

import copy

import numpy as np
import pytest

import staghunt_env
from staghunt_env import GameState, StagHuntConfig, rules
from staghunt_env.observe import observe
from tom_agents import PlannerAgent, make_agent
from tom_agents.opponents import ScriptedOpponents
from tom_agents.planner.kinds import WANDER, act_probs
from tom_agents.planner.rollouts import rollout_values
from tom_agents.planner.stag_hunt_step import StagHuntModel
from tom_agents.search import SearchSettings

# hunter_0 between a hare 3 steps to its left and the stag 2 steps to its right, with hunter_1
# one step below the stag (as in test_hop_plus)
CHOICE = ["......", "H..0.S", ".....1", "......", "......", "......"]
GAMMA = 0.95


def choice() -> tuple[StagHuntConfig, GameState]:
    env = staghunt_env.parallel_env(layout=CHOICE, num_players=2, num_hares=1)
    env.reset(seed=0)
    return env.config, rules.initial_state(env.config, np.random.default_rng(0))


def test_act_probs_take_the_goals_rows_and_give_a_wanderer_its_legal_actions_alike():
    rng = np.random.default_rng(0)
    probs = rng.random((2, 3, 2, 7)).astype(np.float32)
    masks = np.zeros((2, 3, 7), dtype=np.int8)
    masks[..., 0] = 1
    masks[1, 2, [0, 3, 5]] = 1
    goals = np.array([[0, 1, WANDER], [1, 0, WANDER]])
    chosen = act_probs(probs, masks, goals)
    assert np.array_equal(chosen[0, :2], [probs[0, 0, 0], probs[0, 1, 1]])
    assert np.array_equal(chosen[1, :2], [probs[1, 0, 1], probs[1, 1, 0]])
    assert np.array_equal(chosen[0, 2], [1, 0, 0, 0, 0, 0, 0]), "only STAY is legal"
    assert np.allclose(chosen[1, 2], np.where(masks[1, 2] > 0, 1 / 3, 0))
    one_goal = probs[:, :, :1]  # a goal-free model: whatever goal a tree sampled, its one row
    goals = np.array([[1, 0, 1], [0, 1, 1]])
    assert np.array_equal(act_probs(one_goal, masks, goals), one_goal[:, :, 0])


def test_rollouts_walk_a_wanderer_at_random_a_partner_for_the_stag_only_by_chance():
    config, state = choice()
    m = 200
    states = GameState.concatenate([state] * m)
    seeds = np.arange(m, dtype=np.uint64)

    def values(goal: int) -> np.ndarray:
        return rollout_values(config, states, np.zeros(m, int), np.full((m, 1), goal), GAMMA, seeds)

    stag, hare, wander = values(0), values(1), values(WANDER)
    assert np.allclose(stag, 5 * GAMMA**2) and np.allclose(hare, GAMMA**3), "walkers: one path"
    assert len(np.unique(wander)) > 3, "a random walk differs from seed to seed"
    assert wander.min() >= hare[0] - 1e-6, "the focal can still walk to the hare"
    assert (wander == stag[0]).any(), "the wanderer sometimes hunts the stag beside the focal"
    assert hare[0] < wander.mean() < stag[0]


def test_the_search_moves_a_wanderer_by_its_legal_actions_alike_and_a_walker_by_the_model():
    config, state = choice()
    settings = SearchSettings(num_trees=2, num_simulations=2, gamma=GAMMA)
    goals = np.array([[[0], [WANDER]]])  # tree 0: a stag walker, tree 1: a wanderer

    def policy_value(grids, t, masks):
        return np.full((len(grids), 7), 1 / 7), np.zeros(len(grids))

    scripted = ScriptedOpponents()
    model = StagHuntModel(config, settings, state, np.array([0]), goals,
                          np.array([3], dtype=np.uint64), [policy_value], [scripted],
                          np.array([0]))  # fmt: skip
    model.root()
    model._cache_opponents(np.array([0, 1]), np.array([0, 0]))
    obs, masks = observe(state)
    walker = scripted.probs(obs[:, [1]], state.t, masks[:, [1]])[0, 0, 0]
    legal = masks[0, 1].astype(float)
    assert np.allclose(model.opponent[0, 0, 0], walker)
    assert np.allclose(model.opponent[1, 0, 0], legal / legal.sum())
    assert not np.allclose(walker, legal / legal.sum())


def decide(agent: PlannerAgent, kind: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The goals the agent's trees sample at the start of an episode on CHOICE (with the kinds
    set to ``kind`` when given), and the uniforms its generator would draw for them."""
    config, state = choice()
    agent.reset("hunter_0")
    if kind is not None:
        agent.seat.kinds.kind = np.array(kind)
        agent.seat.belief = agent.seat.kinds.plan_belief
    u = copy.deepcopy(agent.rng).random((agent.options.num_trees, agent.seat.num_coplayers))
    decision = agent._decide(state, observe(state)[1][0, 0])
    return decision.goals, u


@pytest.mark.parametrize("model", ["hare", "random"])
def test_trees_sample_the_wanderer_only_when_the_search_plays_it_as_one(model):
    config, _ = choice()
    agent = make_agent("hop", config, seed=0, device="cpu", opponent_model="scripted",
                       num_trees=4000, wanderer_prior=0.5, wanderer_model=model)  # fmt: skip
    agent.reset("hunter_0")
    assert np.allclose(agent.seat.kinds.kind, [[0.25, 0.25, 0.5]]), "the fixed prior"
    goals, u = decide(agent, kind=[[0.1, 0.3, 0.6]])
    shares = np.bincount(goals.ravel(), minlength=3) / goals.size
    if model == "random":
        assert np.allclose(shares, [0.1, 0.3, 0.6], atol=0.03)
    else:  # the wanderer walks to a hare: SPEC's sampling over the two goals
        assert np.allclose(shares, [0.1, 0.9, 0.0], atol=0.03)
        assert np.array_equal(goals, (u >= agent.seat.belief[None, :, 0]).astype(int))


def test_without_a_wanderer_prior_the_option_changes_nothing():
    config, _ = choice()
    options = {"opponent_model": "scripted", "num_trees": 64}
    plain, _ = decide(make_agent("hop", config, seed=5, device="cpu", **options))
    other, _ = decide(make_agent("hop", config, seed=5, device="cpu", wanderer_model="random",
                                 **options))  # fmt: skip
    assert np.array_equal(plain, other) and set(np.unique(plain)) == {0, 1}
    inert = make_agent("hop", config, seed=5, device="cpu", wanderer_model="random", **options)
    inert.reset("hunter_0")
    assert inert.seat.tree_goal_probs("random").shape == (1, 2), "the two goals, no wanderer"


def test_hop_plus_with_random_wanderers_plays_a_match_legally():
    env = staghunt_env.parallel_env(num_players=2, num_hares=2, grid_size=(6, 6))
    agent = make_agent("hop_plus", env.config, seed=0, device="cpu", num_trees=2,
                       num_simulations=4, wanderer_model="random")  # fmt: skip
    sampled, decide = [], agent._decide

    def spy(*args):  # the decisions the agent searched, goals and all
        sampled.append(decide(*args))
        return sampled[-1]

    agent._decide = spy
    for episode in range(2):
        observations, infos = env.reset(seed=episode)
        agent.reset("hunter_0")
        other = make_agent("random", env.config, seed=episode)
        other.reset("hunter_1")
        while env.agents:
            actions = {}
            for name, player in (("hunter_0", agent), ("hunter_1", other)):
                if name in env.agents:
                    action = player.act(observations[name], infos[name])
                    assert observations[name]["action_mask"][action] == 1, (name, action)
                    actions[name] = action
            observations, _, _, _, infos = env.step(actions)
        agent.end_episode()
    assert agent.seat.kinds.judged_counts[0] > 0, "the random co-player was judged"
    goals = np.concatenate([d.goals.ravel() for d in sampled if d is not None])
    assert (goals == WANDER).any(), "and played as a wanderer in the second episode"


def test_an_unknown_wanderer_model_is_refused_by_name():
    with pytest.raises(ValueError, match="wanderer_model"):
        PlannerAgent(StagHuntConfig(), device="cpu", wanderer_model="stag")
