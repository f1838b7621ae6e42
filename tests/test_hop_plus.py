"""hop_plus and the planner options it is made of: the root value, random tie-breaks, goal-directed
rollout leaves, and the belief switches (no inter-episode prior, no intra-episode update)."""

import numpy as np
import pytest

import staghunt_env
from benchmarks.build_pretrained import HOP_PLUS_SEARCH
from staghunt_env import GameState, StagHuntConfig, rules
from staghunt_env.spec import LEFT, RIGHT, STAY, agent_name
from tom_agents import PlannerAgent, load_agent, make_agent
from tom_agents.planner import HOP_PLUS
from tom_agents.planner.agent import Decision, root_values
from tom_agents.planner.kinds import MOVES_TO_JUDGE, Kinds
from tom_agents.planner.rollouts import rollout_values

# hunter_0 between a hare 3 steps to its left and the stag 2 steps to its right, with hunter_1
# one step below the stag: a stag hunter joins it there, a hare hunter walks off to the hare.
BUDGET = {"num_trees": 2, "num_simulations": 16}  # the shipped planners' budget
CHOICE = ["......", "H..0.S", ".....1", "......", "......", "......"]


def test_root_values_q_is_specs_average_and_mean_pools_w_over_n():
    q = np.array([[0.5, 0.0, 0.2], [0.1, 0.0, 0.4]])
    visits = np.array([[1, 0, 4], [3, 0, 1]])
    assert np.allclose(root_values(q, visits, "q"), q.mean(0))
    w = q * (1 + visits)  # Q = W / (1 + N)
    pooled = root_values(q, visits, "mean")
    assert np.allclose(pooled[[0, 2]], [(w[0, 0] + w[1, 0]) / 4, (w[0, 2] + w[1, 2]) / 5])
    assert pooled[1] == -np.inf, "an action no tree visited is never the best"


def test_greedy_breaks_ties_at_random_not_always_the_first_action():
    config = StagHuntConfig()
    mask = np.ones(7, dtype=np.int8)
    chosen = set()
    for seed in range(20):
        agent = PlannerAgent(config, seed=seed, device="cpu", greedy=True)
        agent.reset("hunter_0")
        agent.seat.previous = (None, 0)
        decision = Decision(state=None, goals=None, seed=np.uint64(0), mask=mask)
        chosen.add(agent.finish(decision, np.zeros((2, 7)), np.ones((2, 7), dtype=np.int64)))
    assert len(chosen) > 3, chosen


def choice_state(partner_goal: int) -> tuple[StagHuntConfig, GameState, np.ndarray]:
    env = staghunt_env.parallel_env(layout=CHOICE, num_players=2, num_hares=1)
    env.reset(seed=0)
    state = rules.initial_state(env.config, np.random.default_rng(0))
    return env.config, state, np.array([[partner_goal]])


def test_rollouts_value_the_stag_only_with_a_partner_that_hunts_it():
    gamma = 0.95
    config, state, stag_partner = choice_state(0)
    seeds = np.array([7], dtype=np.uint64)
    with_stag = rollout_values(config, state, np.array([0]), stag_partner, gamma, seeds)
    # 2 steps to the stag, then both hunt on step 3: 5 points discounted twice
    assert with_stag[0] == pytest.approx(5.0 * gamma**2)
    _, _, hare_partner = choice_state(1)
    with_hare = rollout_values(config, state, np.array([0]), hare_partner, gamma, seeds)
    assert with_hare[0] == pytest.approx(gamma**3), "the hare: 3 steps, hunted on the 4th"
    assert state.t[0] == 0, "the states given are not stepped"


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("habit", "towards"), [(0, RIGHT), (1, LEFT)])
def test_hop_plus_walks_to_the_prey_its_beliefs_make_worth_it(seed, habit, towards):
    """The stag when hunter_1 is known to hunt stags, the hare when it is known to hunt hares."""
    env = staghunt_env.parallel_env(layout=CHOICE, num_players=2, num_hares=1)
    observations, infos = env.reset(seed=0)
    agent = make_agent(
        "hop_plus", env.config, seed=seed, device="cpu", opponent_model="scripted", **BUDGET
    )
    agent.seat.goal_counts = np.eye(2)[[habit]] * 100  # 0 stag, 1 hare: a well-known habit
    agent.reset("hunter_0")
    assert agent.act(observations["hunter_0"], infos["hunter_0"]) == towards


def test_hop_plus_is_hop_with_its_options_also_pretrained():
    assert {k: getattr(make_agent("hop_plus").options, k) for k in HOP_PLUS} == HOP_PLUS
    shipped = make_agent("hop_plus", pretrained=True, device="cpu")
    assert {k: getattr(shipped.options, k) for k in HOP_PLUS} == HOP_PLUS
    assert shipped.options.opponent_model == "scripted" and not shipped.learns_opponents
    search = {k: getattr(shipped.options, k) for k in HOP_PLUS_SEARCH}
    assert search == HOP_PLUS_SEARCH, "the manifest holds what build_pretrained writes"
    trained = make_agent("hop", pretrained=True, device="cpu")
    hop = trained.options
    assert hop.num_trees * hop.num_simulations == search["num_trees"] * search["num_simulations"]
    assert same_weights(shipped.networks.policy_value, trained.networks.policy_value)
    tuned = make_agent("hop_plus", pretrained=True, device="cpu", leaf_value="net")
    assert tuned.options.leaf_value == "net", "options given go on top of the variant's"


def same_weights(a, b) -> bool:
    mine, theirs = a.state_dict(), b.state_dict()
    return mine.keys() == theirs.keys() and all(mine[k].equal(theirs[k]) for k in mine)


def test_a_trained_planner_plans_with_another_opponent_model_without_networks(tmp_path):
    config = StagHuntConfig.make(num_players=3, num_hares=2)
    learned = PlannerAgent(config, seed=0, device="cpu", num_trees=1, num_simulations=4)
    learned.save(tmp_path / "hop.safetensors")
    swapped = load_agent(tmp_path / "hop.safetensors", seed=1, opponent_model="scripted",
                         scripted_epsilon=0.2, num_simulations=2)  # fmt: skip
    o = swapped.options
    assert (o.opponent_model, o.scripted_epsilon, o.num_simulations) == ("scripted", 0.2, 2)
    assert not swapped.learns_opponents and swapped.networks.opponent_nets == []
    assert same_weights(swapped.networks.policy_value, learned.networks.policy_value)
    swapped.save(tmp_path / "plus.safetensors")  # its own checkpoint: the net, no opponent nets
    again = load_agent(tmp_path / "plus.safetensors")
    assert again.options.opponent_model == "scripted"
    assert same_weights(again.networks.policy_value, learned.networks.policy_value)
    for model in ("learned", "goal_free"):
        with pytest.raises(ValueError, match=f"opponent_model='{model}' needs networks"):
            swapped.with_opponent_model(model)
    with pytest.raises(ValueError, match="scripted_epsilon applies to opponent_model='scripted'"):
        load_agent(tmp_path / "hop.safetensors", scripted_epsilon=0.2)
    learned.seat.goal_counts = np.array([[1.0, 2.0], [3.0, 0.0]])
    learned.seat.kinds.load_counts({"wander_counts": [0.5, 0.0], "judged_counts": [1.0, 1.0]})
    moved = learned.with_opponent_model("uniform", seed=3)
    assert moved.networks.goal_conditioned is False
    for name, counts in learned.seat.counts().items():
        assert np.array_equal(moved.seat.counts()[name], counts), name


def play_episode(agent, partner, env, seed, *others):
    """One episode: ``agent`` as hunter_0, ``partner`` as hunter_1, ``others`` in the seats after."""
    players = {agent_name(i): p for i, p in enumerate((agent, partner, *others))}
    observations, infos = env.reset(seed=seed)
    for name, player in players.items():
        player.reset(name)
    while env.agents:
        actions = {n: players[n].act(observations[n], infos[n]) for n in env.agents}
        observations, _, _, _, infos = env.step(actions)
    agent.end_episode()


@pytest.mark.parametrize(("option", "value"), [("episode_prior", False), ("bayes_update", False)])
def test_belief_switches(option, value):
    """Without the inter-episode prior every episode starts uniform though the goal counts
    grow; without the Bayes update the belief is the prior until a goal is realised."""
    env = staghunt_env.parallel_env(num_players=2, num_hares=2, grid_size=(5, 5))
    kept = {option: value, "opponent_model": "scripted", "num_simulations": 4, "num_trees": 1}
    agent = make_agent("hop", env.config, seed=0, device="cpu", **kept)
    partner = make_agent("nearest_hare", env.config, seed=1)
    for episode in range(3):
        play_episode(agent, partner, env, episode)
        realised = agent.seat.realised >= 0
        for b in agent.seat.belief_log[: agent.seat.catch_step[0] if realised[0] else None]:
            if option == "bayes_update":
                assert np.array_equal(b, agent.seat.prior)
    assert agent.seat.goal_counts.sum() > 0, "the partner caught hares"
    agent.reset("hunter_0")
    if option == "episode_prior":
        assert np.array_equal(agent.seat.prior, np.full((1, 2), 0.5))
    else:
        assert agent.seat.prior[0, 1] > 0.5, "the prior remembers the hares"


@pytest.mark.parametrize(("field", "value"), [("root_value", "max"), ("leaf_value", "value")])
def test_unknown_choices_are_refused_by_name(field, value):
    with pytest.raises(ValueError, match=field):
        PlannerAgent(StagHuntConfig(), device="cpu", **{field: value})


def test_prior_pseudocount_keeps_the_prior_off_zero_and_one():
    spec = PlannerAgent(StagHuntConfig.make(num_players=2, num_hares=2), seed=0, device="cpu")
    smooth = spec.follower(0, prior_pseudocount=1.0)
    for agent in (spec, smooth):
        agent.seat.goal_counts = np.array([[0.0, 1.0]])  # one hare realised
        agent.reset("hunter_0")
    assert np.array_equal(spec.seat.prior, [[0.0, 1.0]]), "SPEC: certain after one episode"
    assert np.allclose(smooth.seat.prior, [[1 / 3, 2 / 3]])
    with pytest.raises(ValueError, match="prior_pseudocount"):
        spec.follower(0, prior_pseudocount=-1.0)


def test_initial_goal_counts_start_every_coplayer_with_the_told_habit(tmp_path):
    owner = PlannerAgent(StagHuntConfig.make(num_players=3, num_hares=2), seed=0, device="cpu")
    told = owner.follower(1, initial_goal_counts=[0, 4], prior_pseudocount=1.0)  # plain data
    assert told.options.initial_goal_counts == (0.0, 4.0)
    told.reset("hunter_0")
    assert np.allclose(told.seat.prior, [[1 / 6, 5 / 6]] * 2), "both co-players: hares, as told"
    owner.reset("hunter_0")
    assert np.allclose(owner.seat.prior, 0.5), "SPEC starts from no counts"
    told.save(tmp_path / "told.safetensors")
    assert load_agent(tmp_path / "told.safetensors").options.initial_goal_counts == (0.0, 4.0)


@pytest.mark.parametrize("bad", [(-1.0, 0.0), (1.0,), (1.0, float("nan")), (1.0, 2.0, 3.0)])
def test_initial_goal_counts_refuse_bad_values_by_name(bad):
    with pytest.raises(ValueError, match="initial_goal_counts"):
        PlannerAgent(StagHuntConfig(), device="cpu", initial_goal_counts=bad)


# hunter_1 three steps from nothing it can catch in the episode's 3 steps; the stag lies straight
# up from it, the hare straight left, so each step it takes towards the stag is evidence.
FAR = ["0....S", "......", "......", "......", "......", "H....1"]


@pytest.mark.parametrize("soft", [False, True])
def test_soft_goal_counts_count_a_coplayer_that_caught_nothing_by_its_evidence(soft):
    env = staghunt_env.parallel_env(layout=FAR, num_players=2, num_hares=1, max_cycles=3)
    agent = make_agent(
        "hop", env.config, seed=0, device="cpu", opponent_model="scripted", num_trees=1,
        num_simulations=4, prior_pseudocount=1.0, soft_goal_counts=soft,
    )  # fmt: skip
    agent.seat.goal_counts = np.array([[0.0, 5.0]])  # a prior that says hares
    play_episode(agent, make_agent("nearest_stag", env.config, seed=1), env, 0)
    seat = agent.seat
    assert seat.realised[0] == -1, "nothing was caught"
    if soft:  # read only for soft counts
        assert seat.goal_evidence[0, 0] > 0.99, "the evidence says stag, whatever the prior said"
    counted = seat.goal_evidence[0] if soft else 0.0
    assert np.allclose(seat.goal_counts[0], 0.995 * np.array([0.0, 5.0]) + counted)


def test_initial_goal_counts_are_discounted_and_carried_like_any_count():
    env = staghunt_env.parallel_env(layout=FAR, num_players=2, num_hares=1, max_cycles=3)
    agent = make_agent("hop", env.config, seed=0, device="cpu", opponent_model="scripted",
                       num_trees=1, num_simulations=4, initial_goal_counts=(0.0, 4.0))  # fmt: skip
    play_episode(agent, make_agent("nearest_stag", env.config, seed=1), env, 0)
    assert agent.seat.realised[0] == -1, "nothing caught: only the discount moves the counts"
    agent.reset("hunter_0")
    assert np.allclose(agent.seat.goal_counts, [[0.0, 0.995 * 4.0]])
    assert np.allclose(agent.seat.prior, [[0.0, 1.0]]), "pseudo-count 0: the told goal, for sure"
    forgetful = agent.follower(2, episode_prior=False)
    forgetful.reset("hunter_0")
    assert np.allclose(forgetful.seat.prior, 0.5), "no inter-episode prior: told or not"


class Stayer:
    """A co-player that never moves: what neither walker would do, and a wanderer might."""

    def reset(self, agent_id):
        pass

    def act(self, observation, info):
        return STAY


@pytest.mark.parametrize("partner", ["nearest_stag", "stayer"])
def test_wanderer_prior_tells_a_walker_from_a_coplayer_that_goes_nowhere(partner):
    env = staghunt_env.parallel_env(layout=FAR, num_players=2, num_hares=1, max_cycles=3)
    agent = make_agent("hop", env.config, seed=0, device="cpu", opponent_model="scripted",
                       num_trees=1, num_simulations=4, wanderer_prior=0.25)  # fmt: skip
    other = Stayer() if partner == "stayer" else make_agent(partner, env.config, seed=1)
    agent.reset("hunter_0")
    assert np.allclose(agent.seat.kinds.kind, [[0.375, 0.375, 0.25]]), (
        "uniform goals, a quarter wanders"
    )
    assert np.allclose(agent.seat.belief, [[0.375, 0.625]]), "from the first decision on"
    play_episode(agent, other, env, 0)
    kind, belief = agent.seat.kinds.kind, agent.seat.belief
    assert np.allclose(belief, [[kind[0, 0], kind[0, 1] + kind[0, 2]]]), "wanderers plan as hare"
    if partner == "nearest_stag":  # straight up to the stag, step after step
        assert kind[0, 0] > 0.9 and kind[0, 2] < 0.1
    else:  # in place, step after step: a walker would have moved
        assert kind[0, 2] > 0.99 and belief[0, 0] < 0.01, "no stag partner, as it was at first"


# FAR again, one step longer: hunter_0 sees 3 of hunter_1's moves, enough to judge them
FOUR_STEPS = {"layout": FAR, "num_players": 2, "num_hares": 1, "max_cycles": 4}
SCRIPTED_1X4 = {"opponent_model": "scripted", "num_trees": 1, "num_simulations": 4}


@pytest.mark.parametrize("partner", ["nearest_stag", "stayer"])
def test_wanderer_counts_learn_who_wanders_from_the_episodes_before(partner):
    env = staghunt_env.parallel_env(**FOUR_STEPS)
    agent = make_agent("hop", env.config, seed=0, device="cpu", wanderer_counts=True,
                       **SCRIPTED_1X4)  # fmt: skip
    other = Stayer() if partner == "stayer" else make_agent(partner, env.config, seed=1)
    agent.reset("hunter_0")
    assert np.allclose(agent.seat.kinds.kind, [[0.5, 0.5, 0.0]]), "no episode seen: nobody wanders"
    play_episode(agent, other, env, 0)
    seat = agent.seat
    assert seat.realised[0] == -1 and seat.kinds.moves_seen[0] == 3, "nothing caught, 3 moves seen"
    wandered = seat.kinds.evidence[0, 2]
    assert np.isclose(seat.kinds.wander_counts[0], wandered) and seat.kinds.judged_counts[0] == 1.0
    play_episode(agent, other, env, 1)
    assert seat.kinds.judged_counts[0] == pytest.approx(1.995), "discounted, as the goal counts are"
    assert seat.kinds.wander_counts[0] == pytest.approx(
        0.995 * wandered + seat.kinds.evidence[0, 2]
    )
    agent.reset("hunter_0")
    share = seat.kinds.wander_counts[0] / 2.995  # one more walked episode in the denominator
    assert seat.kinds.kind[0, 2] == pytest.approx(share)
    assert agent.belief_report()["hunter_1"][0] == pytest.approx(seat.belief[0, 0])
    play_episode(agent, other, env, 2)  # read after the episode, as the arena reads it
    assert agent.belief_report()["hunter_1"][0] == pytest.approx(seat.belief_log[0][0, 0])
    assert seat.kinds.prior(seat.prior)[0, 2] != pytest.approx(seat.kinds.start_kind[0, 2])
    if partner == "stayer":  # in place, step after step, from a uniform start over the kinds
        assert wandered > 0.99 and share > 0.66
        assert seat.belief[0, 0] < 0.2, "from the first decision, a likely wanderer: no partner"
    else:  # straight up to the stag: a walker that was too far to catch it
        assert wandered < 0.05 and share < 0.05
    forgetful = make_agent("hop", env.config, seed=0, device="cpu", wanderer_counts=True,
                           episode_prior=False, **SCRIPTED_1X4)  # fmt: skip
    forgetful.seat.load_counts(seat.counts())
    forgetful.reset("hunter_0")
    assert np.allclose(forgetful.seat.kinds.kind, [[0.5, 0.5, 0.0]]), (
        "no prior: none learned either"
    )


def test_wanderer_counts_judge_no_coplayer_by_too_few_moves():
    env = staghunt_env.parallel_env(**{**FOUR_STEPS, "max_cycles": 3})  # 2 moves seen
    agent = make_agent("hop", env.config, seed=0, device="cpu", wanderer_counts=True,
                       **SCRIPTED_1X4)  # fmt: skip
    play_episode(agent, Stayer(), env, 0)
    assert agent.seat.kinds.evidence[0, 2] > 0.9, "it did look like a wanderer"
    assert agent.seat.counts()["judged_counts"][0] == 0 and agent.seat.kinds.wander_counts[0] == 0


def test_wanderer_counts_leave_the_first_episode_as_it_was():
    env = staghunt_env.parallel_env(num_players=2, num_hares=2, grid_size=(6, 6))
    seats = []
    for counts in (False, True):
        agent = make_agent("hop", env.config, seed=0, device="cpu", wanderer_counts=counts,
                           **SCRIPTED_1X4)  # fmt: skip
        play_episode(agent, Stayer(), env, 0)  # a co-player a wanderer explains best
        seats.append(agent.seat)
    plain, counted = seats
    assert counted.kinds.evidence[0, 2] > 0.9 and len(plain.belief_log) > 5
    for b, c in zip(plain.belief_log, counted.belief_log, strict=True):
        np.testing.assert_allclose(b, c, rtol=0, atol=1e-12)
    for h, g in zip(plain.history, counted.history, strict=True):
        assert np.array_equal(h["pi"], g["pi"])


@pytest.mark.parametrize("ablation", [{"bayes_update": False}, {"opponent_model": "uniform"}])
def test_wanderer_counts_are_inert_where_no_bayes_update_runs(ablation):
    env = staghunt_env.parallel_env(**FOUR_STEPS)
    options = {**SCRIPTED_1X4, **ablation}
    agent = make_agent("hop", env.config, seed=0, device="cpu", wanderer_counts=True, **options)
    play_episode(agent, Stayer(), env, 0)
    assert not agent.seat.kinds.on and not agent.seat.kinds.learn
    assert np.all(agent.seat.kinds.wander_counts == 0) and np.all(
        agent.seat.kinds.judged_counts == 0
    )


def test_wanderer_counts_travel_with_a_checkpoint(tmp_path):
    env = staghunt_env.parallel_env(**FOUR_STEPS)
    agent = make_agent("hop", env.config, seed=0, device="cpu", wanderer_counts=True,
                       **SCRIPTED_1X4)  # fmt: skip
    play_episode(agent, Stayer(), env, 0)
    agent.save(tmp_path / "a.safetensors")
    loaded = make_agent("hop", env.config, seed=1, device="cpu", wanderer_counts=True,
                        **SCRIPTED_1X4)  # fmt: skip
    loaded.load(tmp_path / "a.safetensors")
    assert loaded.seat.kinds.wander_counts[0] > 0.99 and loaded.seat.kinds.judged_counts[0] == 1.0
    data = agent.state_dict()
    for name in ("wander_counts", "judged_counts", "join_counts", "offer_counts"):
        del data[name]  # saved before the options existed
    loaded.load_state_dict(data)
    for name in ("wander_counts", "judged_counts", "join_counts", "offer_counts"):
        assert np.all(getattr(loaded.seat.kinds, name) == 0), name


def test_kinds_count_a_catch_as_an_episode_walked_however_little_was_seen():
    kinds = Kinds(2, 0.0, learn=True, episode_prior=True)
    kinds.start(np.full((2, 2), 0.5))
    kinds.moves_seen[1] = MOVES_TO_JUDGE - 1
    kinds.realise(0, 1)
    assert np.array_equal(kinds.kind[0], [0.0, 1.0, 0.0]), "a hare walker, for sure"
    kinds.close(
        np.array([1, -1]), 0.995
    )  # 0 caught a hare unseen; 1 caught nothing, too little seen
    assert np.array_equal(kinds.judged_counts, [1.0, 0.0])
    assert np.array_equal(kinds.wander_counts, [0.0, 0.0])


def test_a_seat_resumes_mid_episode_with_its_wanderer_counts_and_kinds():
    env = staghunt_env.parallel_env(**FOUR_STEPS)
    agent = make_agent("hop", env.config, seed=0, device="cpu", wanderer_counts=True,
                       **SCRIPTED_1X4)  # fmt: skip
    play_episode(agent, Stayer(), env, 0)
    observations, infos = env.reset(seed=1)
    agent.reset("hunter_0")
    for _ in range(3):  # two of hunter_1's moves seen
        action = agent.act(observations["hunter_0"], infos["hunter_0"])
        observations, _, _, _, infos = env.step({"hunter_0": action, "hunter_1": STAY})
    twin = make_agent("hop", env.config, seed=5, device="cpu", wanderer_counts=True,
                      **SCRIPTED_1X4)  # fmt: skip
    twin.seat.load_state_dict(agent.seat.state_dict())
    assert agent.seat.kinds.moves_seen[0] == 2 and agent.seat.kinds.wander_counts[0] > 0.99
    for name, counts in agent.seat.counts().items():
        assert np.array_equal(twin.seat.counts()[name], counts), name
    for name, value in agent.seat.kinds.state_dict().items():
        assert np.array_equal(twin.seat.kinds.state_dict()[name], value), name
    assert np.array_equal(twin.seat.belief, agent.seat.belief)


def test_a_fixed_and_a_learned_wanderer_prior_are_refused_together():
    with pytest.raises(ValueError, match="pass wanderer_counts=False"):
        PlannerAgent(StagHuntConfig(), device="cpu", wanderer_counts=True, wanderer_prior=0.1)
    make_agent("hop_plus", wanderer_counts=False, wanderer_prior=0.1)  # what the message says


@pytest.mark.parametrize(
    "bad",
    [{"wanderer_prior": -0.1}, {"wanderer_prior": 1.0},
     {"wanderer_prior": 0.2, "bayes_update": False},
     {"wanderer_prior": 0.2, "opponent_model": "uniform"}],
)  # fmt: skip
def test_wanderer_prior_is_refused_out_of_range_or_where_it_would_do_nothing(bad):
    with pytest.raises(ValueError, match="wanderer_prior"):
        PlannerAgent(StagHuntConfig(), device="cpu", **bad)


def test_a_seat_saved_before_wanderers_resumes_with_their_prior():
    agent = make_agent("hop", StagHuntConfig.make(num_players=2, num_hares=2), seed=0,
                       device="cpu", opponent_model="scripted", wanderer_prior=0.5)  # fmt: skip
    agent.reset("hunter_0")
    state = agent.seat.state_dict()
    for name in ("kind", "kind_evidence", "moves_seen", "wander_counts", "judged_counts"):
        del state[name]
    seat = agent.seat
    seat.kinds.kind = seat.kinds.evidence = None
    seat.kinds.moves_seen = np.full(1, 5)
    seat.kinds.load_counts({"wander_counts": [5.0], "judged_counts": [5.0]})
    seat.load_state_dict(state)
    assert np.allclose(seat.kinds.kind, [[0.25, 0.25, 0.5]])
    assert np.allclose(seat.kinds.evidence, 1 / 3) and np.all(seat.kinds.moves_seen == 0)
    assert np.all(seat.kinds.wander_counts == 0) and np.all(seat.kinds.judged_counts == 0)
    with pytest.raises(KeyError, match="belief"):  # nothing else may be missing
        agent.seat.load_state_dict({k: v for k, v in state.items() if k != "belief"})


def test_wanderer_counts_judge_each_of_three_coplayers_on_its_own():
    """4 hunters: a stag walker, a hare walker and a stayer, none able to catch in 3 moves."""
    layout = ["0....S", "......", "...2..", "......", "..3...", "H....1"]
    env = staghunt_env.parallel_env(layout=layout, num_players=4, num_hares=1, max_cycles=4)
    agent = make_agent("hop", env.config, seed=0, device="cpu", wanderer_counts=True,
                       **SCRIPTED_1X4)  # fmt: skip
    stag = make_agent("nearest_stag", env.config, seed=1)
    hare = make_agent("nearest_hare", env.config, seed=2)
    play_episode(agent, stag, env, 0, hare, Stayer())
    kinds = agent.seat.kinds
    assert np.all(agent.seat.realised == -1) and np.all(kinds.moves_seen == 3)
    # two walkers (the hare walker's shortest paths fork, so each of its steps says less)
    assert kinds.evidence[0, 2] < 0.05 and kinds.evidence[1, 2] < 0.1
    assert kinds.evidence[2, 2] > 0.99, "the stayer"
    assert np.array_equal(kinds.judged_counts, [1.0, 1.0, 1.0])
    agent.reset("hunter_0")
    wander = kinds.kind[:, 2]
    assert wander[2] == pytest.approx(kinds.wander_counts[2] / 2) and wander[2] > 0.49
    assert wander[0] < 0.03 and wander[1] < 0.05
