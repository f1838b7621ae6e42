"""Every input that reaches the engine is checked where it enters, and refused with a ValueError
naming the field: config values, seeds, actions, game states and snapshots. The kernels stay
inside their arrays even when handed garbage."""

import copy
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from gymnasium.spaces import Discrete

import staghunt_env
from staghunt_env import Action, BatchedStagHunt, GameState, StagHuntConfig, observe, rules
from staghunt_env.spec import HUNT_HARE, NUM_ACTIONS, RIGHT, STAY
from staghunt_env.validate import check_action, check_game_state

# hunter 0 steps onto the hare at (0, 1) and catches it: a game with a departed hunter
LAYOUT = ["0H..1", "..#..", "S.#.H", "..2.."]
RANDOM = {"num_players": 3, "grid_size": (6, 7), "num_hares": 3, "num_stags": 1}
CATCH = ({"hunter_0": RIGHT, "hunter_1": STAY, "hunter_2": STAY}, {"hunter_0": HUNT_HARE})


def started(factory=staghunt_env.parallel_env, steps=0, **config):
    env = factory(**(config or {"layout": LAYOUT}))
    env.reset(seed=0)
    for actions in CATCH[:steps]:
        env.step({a: actions.get(a, STAY) for a in env.agents})
    return env


def edited(snapshot, edit):
    snapshot = copy.deepcopy(snapshot)
    edit(snapshot)
    return snapshot


def assert_refused(env, snapshot, match):
    """set_state refuses ``snapshot`` with a ValueError matching ``match`` and changes nothing."""
    before = pickle.dumps(env.get_state())
    with pytest.raises(ValueError, match=match):
        env.set_state(snapshot)
    assert pickle.dumps(env.get_state()) == before


# ---------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("case", "kwargs", "field"),
    [
        ("string_bool_prosocial", {"prosocial": "no"}, "prosocial"),
        ("int_prosocial", {"prosocial": 1}, "prosocial"),
        ("nan_stag_reward", {"stag_reward": float("nan")}, "stag_reward"),
        ("inf_hare_reward", {"hare_reward": float("inf")}, "hare_reward"),
        ("huge_time_reward", {"time_reward": 1e39}, "time_reward"),
        ("string_stag_reward", {"stag_reward": "10"}, "stag_reward"),
        ("bool_hare_reward", {"hare_reward": True}, "hare_reward"),
        ("inf_player_strength", {"player_strength": (1, 1, np.inf, 1)}, "player_strength"),
        ("nan_player_strength", {"player_strength": (1, 1, np.nan, 1)}, "player_strength"),
        ("string_player_strength", {"player_strength": "1111"}, "player_strength"),
        ("string_grid_size", {"grid_size": "55"}, "grid_size"),
        ("float_grid_size", {"grid_size": [5.7, 5]}, "grid_size"),
        ("whole_float_grid_size", {"grid_size": (5.0, 5)}, "grid_size"),
        ("bool_grid_size", {"grid_size": (True, 5)}, "grid_size"),
        ("three_grid_sizes", {"grid_size": (5, 5, 5)}, "grid_size"),
        ("float_end_after_first_hunt", {"end_after_first_hunt": 2.5}, "end_after_first_hunt"),
        ("bool_end_after_first_hunt", {"end_after_first_hunt": True}, "end_after_first_hunt"),
        ("huge_end_after_first_hunt", {"end_after_first_hunt": 2**40}, "end_after_first_hunt"),
        ("float_num_players", {"num_players": 3.0}, "num_players"),
        ("bool_num_players", {"num_players": True}, "num_players"),
        ("string_num_hares", {"num_hares": "2"}, "num_hares"),
        ("float_max_block_components", {"max_block_components": 2.0}, "max_block_components"),
        ("max_cycles_of_2_63", {"max_cycles": 2**63}, "max_cycles"),
        ("max_cycles_above_2_30", {"max_cycles": 2**30 + 1}, "max_cycles"),
        ("float_max_cycles", {"max_cycles": 35.0}, "max_cycles"),
    ],
)
def test_config_refuses(case, kwargs, field):
    with pytest.raises(ValueError, match=rf"^StagHuntConfig\.{field}: "):
        StagHuntConfig.make(**kwargs)
    with pytest.raises(ValueError, match=rf"^StagHuntConfig\.{field}: "):
        StagHuntConfig(**kwargs)  # direct construction is checked alike


def test_config_refuses_max_cycles_above_the_bound_and_says_why():
    with pytest.raises(
        ValueError, match=r"max_cycles: must be 1\.\.1073741824 \(2\*\*30: the step"
    ):
        staghunt_env.parallel_env(max_cycles=2**63)
    env = staghunt_env.parallel_env(max_cycles=2**30, layout=LAYOUT)
    env.reset(seed=0)
    env.step(dict.fromkeys(env.agents, STAY))  # the largest bound steps without overflow


def test_config_accepts_numpy_values_and_ints_as_floats_in_canonical_form():
    config = StagHuntConfig.make(
        num_players=np.int64(3),
        grid_size=[np.int32(5), 6],
        stag_reward=10,
        hare_reward=np.float32(1.5),
        player_strength=[1, np.int8(2), 0.5],
        prosocial=np.bool_(True),
        end_after_first_hunt=np.int16(2),
    )
    assert type(config.num_players) is int and config.grid_size == (5, 6)
    assert type(config.grid_size[0]) is int and type(config.end_after_first_hunt) is int
    assert type(config.stag_reward) is float and config.stag_reward == 10.0
    assert config.player_strength == (1.0, 2.0, 0.5) and config.prosocial is True


@pytest.mark.parametrize(
    ("case", "layout", "message"),
    [
        ("arabic_indic_digit", ["0.٢", "1.H"], r"unknown character '٢' at row 0, col 2"),
        ("superscript_digit", ["0.H", "1.²"], r"unknown character '²' at row 1, col 2"),
        ("non_string_rows", ["0.H", 12345], r"row 1 must be a string, got 12345"),
        ("bytes_layout", b"0.H\n1..", r"must be a string or a list of rows"),
        ("number_layout", 5, r"must be a string or a list of rows, got 5"),
    ],
)
def test_config_refuses_layout(case, layout, message):
    with pytest.raises(ValueError, match=rf"^StagHuntConfig\.layout: {message}"):
        StagHuntConfig.make(layout=layout)


def test_config_refuses_a_layout_count_of_the_wrong_type():
    with pytest.raises(ValueError, match=r"^StagHuntConfig\.num_players: must be an integer"):
        StagHuntConfig.make(layout=LAYOUT, num_players=3.0)


def test_config_refuses_a_hand_built_layout_that_does_not_fit():
    layout = StagHuntConfig.make(layout=LAYOUT).layout
    bad = type(layout)(layout.blocks, layout.players + 10, layout.stags, layout.hares)
    with pytest.raises(ValueError, match=r"^StagHuntConfig\.layout: players must lie inside"):
        StagHuntConfig.make(layout=bad)


# ---------------------------------------------------------------------------- seeds


BAD_SEEDS = {"negative": -1, "float": 1.5, "string": "abc", "bool": True, "list": [1, 2]}
BAD_SEEDS |= {"numpy_float": np.float64(3.0), "numpy_bool": np.bool_(False)}
RESETS = {
    "parallel": lambda seed: staghunt_env.parallel_env().reset(seed=seed),
    "aec": lambda seed: staghunt_env.raw_env().reset(seed=seed),
    "wrapped_aec": lambda seed: staghunt_env.env().reset(seed=seed),
    "batched_init": lambda seed: BatchedStagHunt(2, seed=seed),
    "batched_reset": lambda seed: BatchedStagHunt(2, seed=0).reset(seed=seed),
}


@pytest.mark.parametrize("where", sorted(RESETS))
@pytest.mark.parametrize("case", sorted(BAD_SEEDS))
def test_reset_refuses_seed(where, case):
    seed = BAD_SEEDS[case]
    with pytest.raises(ValueError, match=r"^seed must be None or a non-negative integer, got "):
        RESETS[where](seed)


@pytest.mark.parametrize("where", sorted(RESETS))
def test_reset_accepts_python_and_numpy_integer_seeds(where):
    for seed in (None, 0, 2**70, np.int64(5), np.uint32(5)):
        RESETS[where](seed)
    a, b = staghunt_env.parallel_env(), staghunt_env.parallel_env()
    np.testing.assert_array_equal(
        a.reset(seed=5)[0]["hunter_0"]["observation"],
        b.reset(seed=np.int64(5))[0]["hunter_0"]["observation"],
    )


def test_reset_refuses_bool_seed():
    with pytest.raises(ValueError, match=r"seed .* got True"):
        staghunt_env.parallel_env().reset(seed=True)


# ---------------------------------------------------------------------------- actions


BAD_ACTIONS = {
    "float": 1.0,
    "numpy_float32": np.float32(2),
    "bool": True,
    "numpy_bool": np.bool_(True),
    "string": "1",
    "too_large": NUM_ACTIONS,
    "negative": -1,
    "uint64": np.uint64(1),  # Discrete(7) refuses what does not cast to int64
    "array": np.array([1]),
    "float_array": np.array(1.0),
    "none": None,
}
GOOD_ACTIONS = [0, 6, np.int8(1), np.int64(6), np.uint8(2), np.array(3), Action.HUNT_STAG]


@pytest.mark.parametrize("case", sorted(BAD_ACTIONS))
def test_action_refuses(case):
    action = BAD_ACTIONS[case]
    env = started()
    with pytest.raises(ValueError, match=r"^action for 'hunter_1' must be an integer in Discrete"):
        env.step({"hunter_0": STAY, "hunter_1": action, "hunter_2": STAY})
    aec = started(staghunt_env.raw_env)
    with pytest.raises(ValueError, match=r"^action for 'hunter_0' must be an integer in Discrete"):
        aec.step(action)


def test_action_refuses_float():
    with pytest.raises(ValueError, match=r"action for 'hunter_0' .* got 1\.0"):
        started().step({"hunter_0": 1.0, "hunter_1": STAY, "hunter_2": STAY})


def test_actions_are_those_discrete_contains_takes_except_bools():
    space = Discrete(NUM_ACTIONS)
    for action in [*BAD_ACTIONS.values(), *GOOD_ACTIONS, np.int16(-3), 2**70]:
        takes = space.contains(action) and not isinstance(action, bool)
        try:
            assert check_action(action) == int(action) and takes, action
        except ValueError:
            assert not takes, action
    env = started()
    for action in GOOD_ACTIONS:
        env.step({a: action if a == "hunter_1" else STAY for a in env.agents})


@pytest.mark.parametrize("dtype", [bool, np.float32, object])
def test_batched_actions_refuse_dtype(dtype):
    batched = BatchedStagHunt(2, seed=0)
    batched.reset()
    with pytest.raises(ValueError, match=r"^actions must be integers, got dtype"):
        batched.step(np.zeros((2, 4), dtype=dtype))


# ---------------------------------------------------------------------------- batched states


def batched(num_envs=2, **config):
    engine = BatchedStagHunt(num_envs, seed=0, **(config or {"layout": LAYOUT}))
    engine.reset()
    return engine


def batched_with(edit, **config):
    engine = batched(**config)
    snapshot = engine.get_state()
    edit(snapshot["game"])
    return engine, snapshot


@pytest.mark.parametrize(
    ("case", "edit", "message"),
    [
        (
            "hunter_far_outside_grid",
            lambda g: g.pos.__setitem__((1, 2), 32000),
            r"'pos' has cells outside the 4x5 grid: hunter 2 of game 1 at \(32000, 32000\)",
        ),
        (
            "hunter_one_row_below_grid",
            lambda g: g.pos.__setitem__((0, 1, 0), 4),
            r"'pos' has cells outside the 4x5 grid: hunter 1 of game 0 at \(4, 4\)",
        ),
        (
            "hare_left_of_grid",
            lambda g: g.hare_pos.__setitem__((0, 0, 1), -1),
            r"'hare_pos' has cells outside",
        ),
        (
            "hunter_on_a_wall",
            lambda g: g.pos.__setitem__((0, 0), (1, 2)),
            r"'pos' puts hunter 0 of game 0 on a wall at \(1, 2\)",
        ),
        (
            "stag_on_a_wall",
            lambda g: g.stag_pos.__setitem__((1, 0), (2, 2)),
            r"'stag_pos' puts stag 0 of game 1 on a wall",
        ),
        (
            "negative_t",
            lambda g: g.t.__setitem__(0, -1),
            r"field 't' is -1 in game 0; it must be 0\.\.35",
        ),
        ("t_beyond_max_cycles", lambda g: g.t.__setitem__(1, 36), r"field 't' is 36 in game 1"),
        (
            "first_hunt_after_t",
            lambda g: g.first_hunt.__setitem__(0, 3),
            r"field 'first_hunt' is 3 in game 0",
        ),
        (
            "no_hunter_alive_but_not_over",
            lambda g: g.alive.__setitem__(0, False),
            r"game 0 is not over but its 0 live hunter\(s\) can catch nothing",
        ),
        (
            "wrong_dtype",
            lambda g: setattr(g, "t", g.t.astype(np.int64)),
            r"field 't' has shape \(2,\) and dtype int64",
        ),
        ("wrong_batch", lambda g: setattr(g, "over", g.over[:1]), r"field 'over' has shape \(1,\)"),
        (
            "walls_not_the_layout",
            lambda g: g.blocks.__setitem__((0, 3, 3), True),
            r"field 'blocks' of game 0 differs from the configured layout",
        ),
        (
            "prey_moved",
            lambda g: g.hare_pos.__setitem__((0, 1), (3, 4)),
            r"field 'hare_pos' of game 0 differs",
        ),
    ],
)
def test_batched_set_state_refuses(case, edit, message):
    engine, snapshot = batched_with(edit)
    assert_refused(engine, snapshot, rf"^snapshot\['game'\].*{message}")


def test_batched_set_state_refuses_hunter_far_outside_grid():
    engine = batched(grid_size=(127, 127), num_players=2, num_hares=1, num_stags=0)
    snapshot = engine.get_state()
    snapshot["game"].pos[0, 1] = 32767
    assert_refused(
        engine, snapshot, r"'pos' has cells outside the 127x127 grid: hunter 1 of game 0"
    )
    with pytest.raises(ValueError, match=r"^assign: games field 'pos' has cells outside"):
        engine.assign([0, 1], snapshot["game"])


def test_batched_set_state_refuses_two_live_prey_on_one_cell():
    engine, snapshot = batched_with(
        lambda g: g.hare_pos.__setitem__((0, 1), g.stag_pos[0, 0]), **RANDOM
    )
    assert_refused(engine, snapshot, r"two live prey of game 0 share a cell")


def test_batched_set_state_refuses_more_walls_than_max_block_components_places():
    engine = batched(max_block_components=1, **RANDOM)
    snapshot = engine.get_state()
    game = snapshot["game"]
    taken = {tuple(c) for c in np.concatenate([game.pos[0], game.stag_pos[0], game.hare_pos[0]])}
    free = [tuple(c) for c in np.argwhere(~game.blocks[0]) if tuple(c) not in taken]
    for r, c in free[:4]:
        game.blocks[0, r, c] = True
    assert_refused(
        engine,
        snapshot,
        r"'blocks' has \d+ wall cells in game 0; max_block_components = 1 "
        r"places at most 3",
    )


@pytest.mark.parametrize(
    ("case", "edit", "message"),
    [
        ("unknown_key", lambda s: s.__setitem__("extra", 1), r"unknown key\(s\) \['extra'\]"),
        (
            "nan_returns",
            lambda s: s["returns"].__setitem__((0, 0), np.nan),
            r"snapshot\['returns'\] must be a finite",
        ),
        (
            "int_returns",
            lambda s: s.__setitem__("returns", s["returns"].astype(int)),
            r"snapshot\['returns'\]",
        ),
        (
            "malformed_rng",
            lambda s: s["rng"].__setitem__("state", "x"),
            r"snapshot\['rng'\]: the RNG state is malformed",
        ),
        (
            "game_not_a_state",
            lambda s: s.__setitem__("game", s["game"].arrays()),
            r"snapshot\['game'\] must be a GameState",
        ),
        (
            "config_not_a_dict",
            lambda s: s.__setitem__("config", None),
            r"snapshot\['config'\] must be a dict",
        ),
    ],
)
def test_batched_snapshot_refuses(case, edit, message):
    engine = batched()
    assert_refused(engine, edited(engine.get_state(), edit), message)


def test_batched_assign_refuses_bad_rows():
    engine = batched(num_envs=3)
    games = engine.select([0, 1])
    with pytest.raises(ValueError, match=r"assign: 3 row\(s\) for 2 game\(s\)"):
        engine.assign([0, 1, 2], games)
    with pytest.raises(ValueError, match=r"assign: indices \[0, 3\] do not pick rows of 3"):
        engine.assign([0, 3], games)
    with pytest.raises(ValueError, match=r"assign: indices \[0\.0, 1\.0\]"):
        engine.assign([0.0, 1.0], games)
    engine.assign(np.array([2, 0]), games)  # a legitimate branch still works
    np.testing.assert_array_equal(engine.state.pos[2], games.pos[0])


def test_check_game_state_is_usable_on_its_own():
    config = StagHuntConfig.make(layout=LAYOUT)
    state = rules.initial_state(config, np.random.default_rng(0), batch=3)
    check_game_state(state, config, batch=3)
    check_game_state(GameState.zeros(config, 2), config)  # blank games, as before a reset
    state.t[2] = 99
    with pytest.raises(ValueError, match=r"^checkpoint run\.pt field 't' is 99 in game 2"):
        check_game_state(state, config, what="checkpoint run.pt")
    with pytest.raises(
        ValueError, match=r"^state field 'blocks' has shape \(3, 4, 5\) .* needs \(2, \*\(4, 5\)\)"
    ):
        check_game_state(state, config, batch=2)
    with pytest.raises(ValueError, match=r"^state must be a GameState, got dict"):
        check_game_state(state.arrays(), config)


# ---------------------------------------------------------------------------- parallel snapshots


def _game(field, index, value):
    return lambda s: s["game"][field].__setitem__(index, value)


PARALLEL_CASES = {
    # (steps played first, edit, message)
    "t_of_minus_2_31": (0, _game("t", 0, -(2**31)), r"'t' is -2147483648 in game 0"),
    "negative_t": (0, _game("t", 0, -2), r"'t' is -2 in game 0; it must be 0\.\.35"),
    "t_beyond_max_cycles": (0, _game("t", 0, 36), r"'t' is 36 in game 0"),
    "unfinished_game_at_max_cycles": (0, _game("t", 0, 35), r"game 0 is not over at t = 35"),
    "over_while_agents_list_hunters": (
        0,
        _game("over", 0, True),
        r"snapshot\['agents'\] is \['hunter_0', 'hunter_1', 'hunter_2'\], but the game has \[\]",
    ),
    "no_hunter_alive_while_agents_list_hunters": (
        0,
        _game("alive", 0, False),
        r"game 0 is not over but its 0 live hunter\(s\) can catch nothing",
    ),
    "duplicate_agents": (
        0,
        lambda s: s.__setitem__("agents", ["hunter_0", "hunter_0", "hunter_1", "hunter_2"]),
        r"snapshot\['agents'\] .* lists an agent twice",
    ),
    "agents_not_strings": (0, lambda s: s.__setitem__("agents", [0, 1, 2]), r"list of agent names"),
    "hunter_on_a_wall": (
        0,
        _game("pos", (0, 2), (1, 2)),
        r"'pos' puts hunter 2 of game 0 on a wall",
    ),
    "departed_hunter_in_agents": (
        2,
        lambda s: s.__setitem__("agents", ["hunter_0", "hunter_1", "hunter_2"]),
        r"but the game has \['hunter_1', 'hunter_2'\] in play",
    ),
    "live_hunter_missing_from_agents": (
        0,
        lambda s: s.__setitem__("agents", ["hunter_0", "hunter_2"]),
        r"snapshot\['agents'\] is \['hunter_0', 'hunter_2'\]",
    ),
    "agents_out_of_order": (
        0,
        lambda s: s.__setitem__("agents", ["hunter_2", "hunter_1", "hunter_0"]),
        r"in order",
    ),
    "revived_hunter_without_agent": (2, _game("alive", (0, 0), True), r"snapshot\['agents'\] is"),
    "first_hunt_before_any_catch": (0, _game("first_hunt", 0, 0), r"'first_hunt' = 0, but no prey"),
    "catch_without_first_hunt": (2, _game("first_hunt", 0, -1), r"'first_hunt' is -1"),
    "first_hunt_in_the_future": (2, _game("first_hunt", 0, 5), r"'first_hunt' is 5 in game 0"),
    "unknown_key": (0, lambda s: s.__setitem__("note", "x"), r"unknown key\(s\) \['note'\]"),
    "aec_part_in_a_parallel_snapshot": (0, lambda s: s.__setitem__("aec", {}), r"unknown key"),
    "ragged_game_field": (
        0,
        lambda s: s["game"].__setitem__("pos", [[1, 2], [3]]),
        r"snapshot\['game'\]\['pos'\] is not an array",
    ),
}


@pytest.mark.parametrize("case", sorted(PARALLEL_CASES))
def test_snapshot_refuses(case):
    steps, edit, message = PARALLEL_CASES[case]
    env = started(steps=steps)
    assert_refused(env, edited(env.get_state(), edit), message)


def test_snapshot_refuses_negative_t():
    env = started()
    assert_refused(
        env, edited(env.get_state(), _game("t", 0, -1)), r"^snapshot\['game'\] field 't'"
    )


def test_snapshot_refuses_unfinished_game_past_end_after_first_hunt():
    env = started(steps=2, layout=LAYOUT, end_after_first_hunt=3)
    assert_refused(
        env,
        edited(env.get_state(), _game("t", 0, 5)),
        r"game 0 is not over at t = 5 although the first catch \(t = 2\) was "
        r"end_after_first_hunt = 3 steps ago",
    )


def test_snapshot_rng_never_touches_the_global_numpy_rng():
    env = started()
    before = np.random.get_state()[1].copy()
    bad = edited(env.get_state(), lambda s: s["rng"].__setitem__("bit_generator", "seed"))
    assert_refused(env, bad, r"snapshot\['rng'\]: the RNG state is malformed")
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_snapshot_of_a_finished_or_blank_game_is_accepted():
    env = started(steps=2, layout=LAYOUT, max_cycles=3)
    env.step(dict.fromkeys(env.agents, STAY))
    assert not env.agents
    snapshot = env.get_state()
    staghunt_env.parallel_env(layout=LAYOUT, max_cycles=3).set_state(snapshot)
    blank = staghunt_env.parallel_env(layout=LAYOUT).get_state()  # before any reset
    staghunt_env.parallel_env(layout=LAYOUT).set_state(blank)


# ---------------------------------------------------------------------------- AEC snapshots


def _turn(field, value, key=None):
    def edit(s):
        if key is None:
            s["aec"][field] = value
        else:
            s["aec"][field][key] = value

    return edit


AEC_CASES = {
    "unknown_key": (_turn("step", "boom"), r"unknown turn field\(s\) \['step'\]"),
    "attribute_injection": (_turn("close", None), r"unknown turn field"),
    "selection_not_the_current_agent": (
        _turn("agent_selection", "hunter_2"),
        r"aec\['agent_selection'\], aec\['_skip_agent_selection'\] are \('hunter_2', None\); "
        r"after these turns they are \('hunter_1', None\)",
    ),
    "selection_not_an_agent": (_turn("agent_selection", 3), r"aec\['agent_selection'\]"),
    "float_pending_action": (
        _turn("_pending", 4.0, "hunter_0"),
        r"aec\['_pending'\]\['hunter_0'\] must be an integer",
    ),
    "lost_pending_action": (
        _turn("_pending", {}),
        r"aec\['_pending'\] must hold the actions of \['hunter_0'\]",
    ),
    "pending_action_of_a_later_agent": (_turn("_pending", STAY, "hunter_2"), r"aec\['_pending'\]"),
    "rewards_missing_an_agent": (
        _turn("rewards", {"hunter_0": 0.0}),
        r"aec\['rewards'\] must be a dict keyed by aec\['agents'\]",
    ),
    "nan_reward": (
        _turn("_cumulative_rewards", float("nan"), "hunter_1"),
        r"aec\['_cumulative_rewards'\]\['hunter_1'\] must be a finite number",
    ),
    "int_termination": (
        _turn("terminations", 0, "hunter_1"),
        r"aec\['terminations'\]\['hunter_1'\] must be a bool",
    ),
    "live_agent_terminated": (
        _turn("terminations", True, "hunter_1"),
        r"not terminated or truncated are \['hunter_0', 'hunter_2'\]",
    ),
    "malformed_info": (_turn("infos", {}, "hunter_0"), r"aec\['infos'\]\['hunter_0'\] must be"),
    "info_from_the_future": (
        _turn("infos", {"t": 9, "caught": staghunt_env.Catch.NOTHING}, "hunter_0"),
        r"aec\['infos'\]",
    ),
    "selector_not_a_selector": (_turn("_agent_selector", None), r"aec\['_agent_selector'\]"),
    "duplicate_agents": (
        _turn("agents", ["hunter_0", "hunter_0", "hunter_1", "hunter_2"]),
        r"aec\['agents'\] must list distinct agents",
    ),
    "observations_missing_an_agent": (
        lambda s: s["aec"]["_last_observations"].pop("hunter_2"),
        r"aec\['_last_observations'\] must be a dict keyed",
    ),
    "observation_of_the_wrong_shape": (
        lambda s: s["aec"]["_last_observations"]["hunter_1"].__setitem__(
            "observation", np.zeros((2, 2, 6), np.int8)
        ),
        r"aec\['_last_observations'\]\['hunter_1'\] is not an observation",
    ),
    "bad_game_under_good_turns": (_game("t", 0, -1), r"snapshot\['game'\] field 't' is -1"),
}


@pytest.mark.parametrize("case", sorted(AEC_CASES))
def test_aec_snapshot_refuses(case):
    edit, message = AEC_CASES[case]
    env = started(staghunt_env.raw_env)
    env.step(STAY)  # mid-cycle: hunter_0 has acted, hunter_1 is next
    assert_refused(env, edited(env.get_state(), edit), message)
    assert callable(env.close) and callable(env.step)


def test_aec_snapshot_with_dead_turns_pending_round_trips_and_is_checked():
    env = started(staghunt_env.raw_env)
    for actions in CATCH:
        for agent in list(env.agents):
            env.step(actions.get(agent, STAY))
    assert env.agent_selection == "hunter_0" and env.terminations["hunter_0"]
    snapshot = env.get_state()
    assert snapshot["aec"]["_skip_agent_selection"] == "hunter_1"
    fresh = staghunt_env.raw_env(layout=LAYOUT)
    fresh.set_state(snapshot)
    assert fresh.agent_selection == "hunter_0" and fresh._skip_agent_selection == "hunter_1"
    assert_refused(
        fresh,
        edited(snapshot, _turn("agent_selection", "hunter_1")),
        r"after these turns they are \('hunter_0', 'hunter_1'\)",
    )
    assert_refused(
        fresh,
        edited(snapshot, _turn("terminations", False, "hunter_0")),
        r"not terminated or truncated are \['hunter_0', 'hunter_1', 'hunter_2'\]",
    )


# ---------------------------------------------------------------------------- kernels


def _garbage_state():
    """Two games of LAYOUT with every hunter, a stag and a hare outside the grid, and the same
    games with those entities gone (what the kernels must draw). Unchecked, the cells before
    the grid (game 0) and after it (game 1) index the rows before and after the buffer."""
    config = StagHuntConfig.make(layout=LAYOUT)
    state = rules.initial_state(config, np.random.default_rng(0), batch=2)
    state.pos[0] = [(-9, 0), (-6, 1), (0, -8)]
    state.pos[1] = [(4, 0), (5, 4), (0, 5)]
    state.stag_pos[:, 0] = (4, 5)
    state.hare_pos[:, 1] = (-5, -6)
    clean = state.copy()
    clean.alive[:] = clean.stag_alive[:, 0] = clean.hare_alive[:, 1] = False
    return config, state, clean


def _guarded(shape, fill=7):
    """A buffer with one guard row before and after the rows handed to a kernel."""
    buffer = np.full((shape[0] + 2, *shape[1:]), fill, dtype=np.int8)
    return buffer, buffer[1:-1]


def test_observation_kernels_skip_cells_outside_the_grid():
    config, state, clean = _garbage_state()
    obs_buffer, obs = _guarded((2, 3, 4, 5, 6))
    mask_buffer, mask = _guarded((2, 3, NUM_ACTIONS))
    observe.observe(state, out=(obs, mask))
    expected_obs, expected_mask = observe.observe(clean)
    for buffer in (obs_buffer, mask_buffer):
        assert (buffer[0] == 7).all() and (buffer[-1] == 7).all(), "the guard rows are untouched"
    np.testing.assert_array_equal(obs, expected_obs)
    grid_buffer, grid = _guarded((2, 4, 5, 6))
    observe.global_grid(state, out=grid)
    assert (grid_buffer[0] == 7).all() and (grid_buffer[-1] == 7).all()
    np.testing.assert_array_equal(grid, observe.global_grid(clean))
    observe.observe(state, out=(obs, mask), games=np.array([-1, 2, 99, 1]))  # rows out of range
    assert (obs_buffer[0] == 7).all() and (obs_buffer[-1] == 7).all()


def test_incremental_observation_kernel_skips_cells_outside_the_grid():
    config, state, _ = _garbage_state()
    buffer, obs = _guarded((2, 3, 4, 5, 6))
    mask = np.zeros((2, 3, NUM_ACTIONS), np.int8)
    previous = tuple(a.copy() for a in observe.tracked(state))
    state.pos[:, :2] = (4, 4)  # hunters "move" from one cell outside the grid to another
    state.alive[:, 2] = False  # or leave from one
    state.stag_alive[:] = state.hare_alive[:] = False
    observe.update_observations(previous, state, (obs, mask))
    assert (buffer[0] == 7).all() and (buffer[-1] == 7).all()


def test_step_kernel_ignores_negative_actions():
    config, state, _ = _garbage_state()
    before = state.pos.copy()
    after, *_ = rules.step(config, state, np.full((2, 3), -(2**62), dtype=np.int64))
    np.testing.assert_array_equal(after.pos, before)


def _misfits(state):
    """Copies of ``state`` with one field cut to one game each."""
    for name in state.arrays():
        bad = state.copy()
        setattr(bad, name, getattr(bad, name)[:1])
        yield name, bad


@pytest.mark.parametrize("parallel", [False, True])
def test_kernels_refuse_arrays_whose_shapes_do_not_fit(parallel, monkeypatch):
    """Shapes are checked inside the kernels, once per call: no cost per step in Python."""
    for module in (rules, observe):
        monkeypatch.setattr(module, "use_parallel", lambda games: parallel)
    config, state, _ = _garbage_state()
    actions = np.zeros((2, 3), dtype=np.int64)
    obs, mask = observe.observe(state)
    previous = observe.tracked(state)
    with pytest.raises(ValueError, match=r"^rules\.step: the arrays' shapes do not fit"):
        rules.step(config, state, actions[:, :2])
    with pytest.raises(ValueError, match=r"^observe: the arrays' shapes do not fit"):
        observe.observe(state, out=(obs[:, :, :, :4], mask))
    with pytest.raises(ValueError, match=r"^observe: the mask's or the state's shapes"):
        observe.observe(state, out=(obs, mask[:, :, :6]))
    with pytest.raises(ValueError, match=r"^update_observations: the arrays' shapes"):
        observe.update_observations((previous[0][:1], *previous[1:]), state, (obs, mask))
    for name, bad in _misfits(state):
        with pytest.raises(ValueError, match=r"shapes do not fit"):
            rules.step(config, bad, actions[: bad.alive.shape[0]])
        if name not in ("t", "first_hunt"):  # the views do not read the clock
            with pytest.raises(ValueError, match=r"shapes do not fit"):
                observe.observe(bad)


def test_kernels_survive_int16_extremes_on_the_largest_grid_in_a_subprocess():
    """The segfault of the issue (127x127, a hunter at (32767, 32767)), run where it cannot kill pytest."""
    code = textwrap.dedent(
        """
        import numpy as np
        from staghunt_env import StagHuntConfig, observe, rules
        config = StagHuntConfig.make(grid_size=(127, 127), num_players=2, num_hares=1, num_stags=0)
        state = rules.initial_state(config, np.random.default_rng(0), batch=4)
        previous = tuple(a.copy() for a in observe.tracked(state))
        state.pos[:] = [[32767, 32767], [-32768, -32768]]
        state.hare_pos[:] = 32767
        obs, mask = observe.observe(state)
        observe.update_observations(previous, state, (obs, mask))
        rules.step(config, state, np.zeros((4, 2), dtype=np.int64), inplace=True)
        assert obs[..., :2].sum() == 0 and obs[..., 4].sum() == 0
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
