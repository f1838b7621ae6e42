"""The encoding (staghunt_env.spec): enums, the helpers between them, channels and agent names."""

import re

import numpy as np
import pytest

import staghunt_env
from staghunt_env import Action, Catch, Goal, StagHuntConfig, rules, spec


def test_actions_goals_and_catches_have_their_numbers():
    assert [(a.name, int(a)) for a in Action] == [
        ("UP", 0),
        ("DOWN", 1),
        ("LEFT", 2),
        ("RIGHT", 3),
        ("STAY", 4),
        ("HUNT_STAG", 5),
        ("HUNT_HARE", 6),
    ]
    assert spec.NUM_ACTIONS == 7 and tuple(a.name for a in Action) == spec.ACTION_NAMES
    assert [(g.name, int(g)) for g in Goal] == [("STAG", 0), ("HARE", 1)] and spec.NUM_GOALS == 2
    assert [(c.name, int(c)) for c in Catch] == [("NOTHING", -1), ("STAG", 0), ("HARE", 1)]
    for goal in Goal:
        assert Catch(goal) == goal and Catch(goal).name == goal.name, "a catch realises a goal"


def test_the_kernel_constants_are_plain_ints_equal_to_the_enums():
    for action in Action:
        value = getattr(spec, action.name)
        assert type(value) is int and value == action
    assert type(spec.CAUGHT_NOTHING) is int and spec.CAUGHT_NOTHING == Catch.NOTHING
    assert (spec.GOAL_STAG, spec.GOAL_HARE) == (Goal.STAG, Goal.HARE)


def test_hunt_actions_and_goals_convert_both_ways():
    for goal in Goal:
        action = spec.hunt_action(goal)
        assert isinstance(action, Action) and spec.goal_of_hunt(action) is goal
    assert spec.hunt_action(Goal.STAG) is Action.HUNT_STAG
    assert spec.hunt_action(1) is Action.HUNT_HARE
    assert spec.goal_of_hunt(6) is Goal.HARE


@pytest.mark.parametrize("action", [Action.UP, Action.RIGHT, Action.STAY, 7, -1])
def test_only_hunts_have_a_goal(action):
    with pytest.raises(ValueError):
        spec.goal_of_hunt(action)


@pytest.mark.parametrize("goal", [2, -1])
def test_a_goal_out_of_range_has_no_hunt_or_channel(goal):
    with pytest.raises(ValueError):
        spec.hunt_action(goal)
    with pytest.raises(ValueError):
        spec.prey_channel(goal, 3)


def test_the_move_table_steps_rows_and_columns():
    assert spec.MOVES[Action.UP] == (-1, 0) and spec.MOVES[Action.DOWN] == (1, 0)
    assert spec.MOVES[Action.LEFT] == (0, -1) and spec.MOVES[Action.RIGHT] == (0, 1)
    assert spec.NUM_MOVES == len(spec.MOVES) == Action.STAY
    np.testing.assert_array_equal(np.stack([spec.MOVE_DR, spec.MOVE_DC], 1), spec.MOVES)
    with pytest.raises(ValueError):
        spec.MOVE_DR[0] = 0


@pytest.mark.parametrize("n", [2, 3, 5])
def test_channels_follow_the_hunters(n):
    assert spec.wall_channel(n) == n
    assert spec.stag_channel(n) == spec.prey_channel(Goal.STAG, n) == n + 1
    assert spec.hare_channel(n) == spec.prey_channel(Goal.HARE, n) == n + 2
    assert spec.num_channels(n) == n + 3 == StagHuntConfig.make(num_players=n).num_channels


def test_observations_put_walls_and_prey_in_their_channels():
    env = staghunt_env.parallel_env(layout=["0#S", "..H", "1.2"])
    observations, _ = env.reset(seed=0)
    n = 3
    grid = observations["hunter_1"]["observation"]
    assert grid.shape[-1] == spec.num_channels(n)
    assert [tuple(x) for x in np.argwhere(grid[..., spec.wall_channel(n)])] == [(0, 1)]
    assert [tuple(x) for x in np.argwhere(grid[..., spec.stag_channel(n)])] == [(0, 2)]
    assert [tuple(x) for x in np.argwhere(grid[..., spec.hare_channel(n)])] == [(1, 2)]
    assert [tuple(x) for x in np.argwhere(grid[..., 0])] == [(2, 0)], "the observer first"


def test_agent_names_and_indices_round_trip():
    for i in (0, 1, 9, 10, 123):
        assert spec.agent_name(i) == f"hunter_{i}"
        assert spec.agent_index(spec.agent_name(i)) == i
    assert spec.agent_index("hunter_2", num_players=3) == 2
    env = staghunt_env.parallel_env(num_players=4)
    assert env.possible_agents == [spec.agent_name(i) for i in range(4)]


@pytest.mark.parametrize(
    "name", ["hunter_x", "hunter_", "hunter_-1", "hunter_01", "Hunter_0", "hunter_1 ", "player_0"]
)
def test_a_bad_agent_name_is_a_value_error_naming_it(name):
    with pytest.raises(ValueError, match=re.escape(repr(name))):
        spec.agent_index(name)


def test_agent_index_refuses_non_strings_and_players_beyond_the_game():
    with pytest.raises(ValueError, match="3"):
        spec.agent_index(3)
    with pytest.raises(ValueError, match=r"'hunter_3'.*3-player"):
        spec.agent_index("hunter_3", num_players=3)
    for bad in (-1, 1.0, "0", True):
        with pytest.raises(ValueError):
            spec.agent_name(bad)


def test_the_package_and_the_rules_export_the_same_encoding():
    assert staghunt_env.Action is Action and staghunt_env.Goal is Goal
    assert staghunt_env.Catch is Catch and staghunt_env.spec is spec
    assert staghunt_env.HUNT_STAG == rules.HUNT_STAG == Action.HUNT_STAG
    assert rules.MOVES is spec.MOVES and rules.NUM_ACTIONS == spec.NUM_ACTIONS
    assert tuple(range(5)) == (rules.UP, rules.DOWN, rules.LEFT, rules.RIGHT, rules.STAY)
