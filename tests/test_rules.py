"""The rules of SPEC section 1, each checked on a fixed layout."""

import numpy as np
import pytest

import staghunt_env
from staghunt_env import HUNT_HARE, HUNT_STAG, STAY, Catch, StagHuntConfig, rules
from staghunt_env.rules import DOWN, LEFT, RIGHT, UP
from staghunt_env.spec import agent_index, agent_name, hare_channel, stag_channel


def make(layout, **config):
    env = staghunt_env.parallel_env(layout=layout, **config)
    observations, _ = env.reset(seed=0)
    return env, observations


def test_two_hunters_on_the_stag_share_it_and_leave():
    env, _ = make(["0S1..", ".....", "2...H"])
    _, rewards, term, trunc, _ = env.step({"hunter_0": RIGHT, "hunter_1": LEFT, "hunter_2": STAY})
    assert rewards == {"hunter_0": 0.0, "hunter_1": 0.0, "hunter_2": 0.0}
    obs, rewards, term, trunc, _ = env.step(
        {"hunter_0": HUNT_STAG, "hunter_1": HUNT_STAG, "hunter_2": STAY}
    )
    assert rewards == {"hunter_0": 5.0, "hunter_1": 5.0, "hunter_2": 0.0}
    assert term == {"hunter_0": True, "hunter_1": True, "hunter_2": False}
    assert env.agents == ["hunter_2"]
    assert not env.game_state.stag_alive.any()
    grid = obs["hunter_2"]["observation"]
    assert grid[..., stag_channel(3)].sum() == 0, "the stag channel is empty"
    assert grid[..., 1].sum() == 0 and grid[..., 2].sum() == 0, "the hunters left the grid"


def test_a_lone_stag_hunter_catches_nothing_and_loses_nothing():
    env, obs = make(["0S...", ".....", "1...H"])
    env.step({"hunter_0": RIGHT, "hunter_1": STAY})
    obs, rewards, term, _, _ = env.step({"hunter_0": HUNT_STAG, "hunter_1": STAY})
    assert rewards == {"hunter_0": 0.0, "hunter_1": 0.0}
    assert not any(term.values())
    assert env.game_state.stag_alive.all()
    assert obs["hunter_0"]["action_mask"][HUNT_STAG] == 1


def test_stag_split_follows_player_strength():
    env, _ = make(["0....", ".1...", "..2S.", "....H"], player_strength=(1, 1, 2))
    env.step({"hunter_0": DOWN, "hunter_1": DOWN, "hunter_2": RIGHT})
    env.step({"hunter_0": RIGHT, "hunter_1": RIGHT, "hunter_2": STAY})
    env.step({"hunter_0": DOWN, "hunter_1": RIGHT, "hunter_2": STAY})
    env.step({"hunter_0": RIGHT, "hunter_1": STAY, "hunter_2": STAY})
    env.step({"hunter_0": RIGHT, "hunter_1": STAY, "hunter_2": STAY})
    assert (env.game_state.pos[0] == [2, 3]).all()
    _, rewards, term, _, _ = env.step({a: HUNT_STAG for a in env.agents})
    assert rewards == {"hunter_0": 2.5, "hunter_1": 2.5, "hunter_2": 5.0}
    assert all(term.values())


def test_a_hare_gives_its_reward_and_the_hunter_leaves():
    env, obs = make(["0H...", ".....", "1...H"])
    env.step({"hunter_0": RIGHT, "hunter_1": STAY})
    obs, rewards, term, trunc, _ = env.step({"hunter_0": HUNT_HARE, "hunter_1": STAY})
    assert rewards == {"hunter_0": 1.0, "hunter_1": 0.0}
    assert term["hunter_0"] and not term["hunter_1"]
    assert env.agents == ["hunter_1"]


def test_two_hunters_on_one_hare_split_it():
    env, _ = make(["0H1..", ".....", "....H", "2...."])
    env.step({"hunter_0": RIGHT, "hunter_1": LEFT, "hunter_2": STAY})
    _, rewards, term, _, _ = env.step(
        {"hunter_0": HUNT_HARE, "hunter_1": HUNT_HARE, "hunter_2": STAY}
    )
    assert rewards == {"hunter_0": 0.5, "hunter_1": 0.5, "hunter_2": 0.0}
    assert term == {"hunter_0": True, "hunter_1": True, "hunter_2": False}


def test_walls_and_borders_stop_moves():
    env, obs = make(["0#...", "#....", "1...H"])
    mask = obs["hunter_0"]["action_mask"]
    assert list(mask) == [0, 0, 0, 0, 1, 0, 0], "cornered by a wall and the border: only STAY"
    for action in (UP, DOWN, LEFT, RIGHT):  # sent anyway: runs as STAY
        env.step({"hunter_0": action, "hunter_1": STAY})
        assert (env.game_state.pos[0, 0] == [0, 0]).all()


def test_the_episode_truncates_at_max_cycles():
    env, _ = make(["0....", ".....", "1...H"], max_cycles=3)
    for t in range(3):
        assert env.agents
        _, _, term, trunc, infos = env.step({a: STAY for a in env.agents})
        assert infos["hunter_0"]["t"] == t + 1
    assert trunc == {"hunter_0": True, "hunter_1": True}
    assert term == {"hunter_0": False, "hunter_1": False}
    assert env.agents == []


def test_the_episode_terminates_when_nothing_catchable_remains():
    # one hare: once caught, only a stag is left for a lone hunter, which it cannot catch
    env, _ = make(["0H...", "....S", "1...."])
    env.step({"hunter_0": RIGHT, "hunter_1": STAY})
    _, rewards, term, trunc, _ = env.step({"hunter_0": HUNT_HARE, "hunter_1": STAY})
    assert term == {"hunter_0": True, "hunter_1": True}
    assert trunc == {"hunter_0": False, "hunter_1": False}
    assert env.agents == []


def test_end_after_first_hunt_truncates_k_steps_later():
    env, _ = make(["0H...", "....H", "1...."], end_after_first_hunt=2)
    env.step({"hunter_0": RIGHT, "hunter_1": STAY})
    env.step({"hunter_0": HUNT_HARE, "hunter_1": STAY})
    _, _, _, trunc, _ = env.step({"hunter_1": STAY})
    assert not trunc["hunter_1"]
    _, _, _, trunc, _ = env.step({"hunter_1": STAY})
    assert trunc["hunter_1"] and env.agents == []


def test_time_reward_and_prosocial_mean():
    env, _ = make(["0H...", ".....", "1...H"], time_reward=-0.1, prosocial=True)
    env.step({"hunter_0": RIGHT, "hunter_1": STAY})
    _, rewards, _, _, _ = env.step({"hunter_0": HUNT_HARE, "hunter_1": STAY})
    assert rewards == pytest.approx({"hunter_0": 0.4, "hunter_1": 0.4})


def test_observation_channels_are_rotated_observer_first():
    env, obs = make(["0.1..", ".....", "2..SH"])
    n = 3
    for i in range(n):
        grid = obs[f"hunter_{i}"]["observation"]
        for k in range(n):
            j = (i + k) % n
            (r,), (c,) = np.nonzero(grid[..., k])
            assert (r, c) == tuple(env.game_state.pos[0, j]), (i, k)
        assert grid[2, 3, stag_channel(n)] == 1 and grid[2, 4, hare_channel(n)] == 1
    state = env.state()
    for j in range(n):
        assert tuple(np.argwhere(state[..., j])[0]) == tuple(env.game_state.pos[0, j])


def test_actions_outside_the_space_are_refused():
    env, _ = make(["0H...", ".....", "1...H"])
    with pytest.raises(ValueError, match="hunter_0"):
        env.step({"hunter_0": 7, "hunter_1": STAY})
    with pytest.raises(ValueError, match="hunter_1"):
        env.step({"hunter_0": STAY, "hunter_1": -1})
    with pytest.raises(ValueError, match="no action for live agent 'hunter_1'"):
        env.step({"hunter_0": STAY})
    aec = staghunt_env.raw_env(layout=["0H...", ".....", "1...H"])
    aec.reset(seed=0)
    with pytest.raises(ValueError, match="Discrete"):
        aec.step(1.5)


# ---------------------------------------------------------------------------- who caught what

# Hunters 0 and 1 share a stag, 2 takes a hare, 3 hunts a stag alone and fails.
CATCH_LAYOUT = ["0S1H2", "3S...", "....H"]
CATCH_MOVES = {"hunter_0": RIGHT, "hunter_1": LEFT, "hunter_2": LEFT, "hunter_3": RIGHT}
CATCH_HUNTS = {
    "hunter_0": HUNT_STAG,
    "hunter_1": HUNT_STAG,
    "hunter_2": HUNT_HARE,
    "hunter_3": HUNT_STAG,
}
CATCHES = [Catch.STAG, Catch.STAG, Catch.HARE, Catch.NOTHING]


def _joint(actions: dict) -> np.ndarray:
    return np.array([[actions[agent_name(i)] for i in range(len(actions))]], dtype=np.int64)


@pytest.mark.parametrize("prosocial", [False, True])
def test_the_rules_report_who_caught_what(prosocial):
    config = StagHuntConfig.make(layout=CATCH_LAYOUT, prosocial=prosocial)
    state = rules.initial_state(config, np.random.default_rng(0))
    state, _, _, _, caught = rules.step(config, state, _joint(CATCH_MOVES))
    assert caught.dtype == np.int8 and caught.tolist() == [[Catch.NOTHING] * 4]
    state, rewards, term, _, caught = rules.step(config, state, _joint(CATCH_HUNTS))
    assert caught.tolist() == [CATCHES]
    assert term.tolist() == [[True, True, True, False]]
    if prosocial:  # everyone gets the mean, but only the catchers caught something
        assert rewards.tolist() == [[2.75] * 4]
    else:
        assert rewards.tolist() == [[5.0, 5.0, 1.0, 0.0]]
    _, _, _, _, caught = rules.step(config, state, np.full((1, 4), HUNT_HARE))
    assert caught.tolist() == [[Catch.NOTHING] * 4], "a hunt off prey, and departed hunters"


def test_caught_is_written_for_every_game_into_the_out_buffer():
    config = StagHuntConfig.make(layout=["0H1", "...", "..H"])
    state = rules.initial_state(config, np.random.default_rng(0), batch=3)
    rules.step(config, state, np.array([[RIGHT, STAY]] * 3), inplace=True)
    state.over[2] = True  # a finished game: left alone, catches nothing
    out = (
        np.zeros((3, 2), np.float32),
        np.zeros((3, 2), bool),
        np.zeros((3, 2), bool),
        np.full((3, 2), 7, np.int8),
    )
    actions = np.array([[HUNT_HARE, STAY], [HUNT_STAG, HUNT_HARE], [HUNT_HARE, STAY]])
    result = rules.step(config, state, actions, inplace=True, out=out)
    assert result[4] is out[3]
    assert out[3].tolist() == [
        [Catch.HARE, Catch.NOTHING],
        [Catch.NOTHING] * 2,
        [Catch.NOTHING] * 2,
    ]
    assert out[0].tolist() == [[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]


def test_infos_report_the_catches_with_the_same_keys_at_reset_and_step():
    env, _ = make(CATCH_LAYOUT)
    infos = env.reset(seed=0)[1]
    assert infos == {a: {"t": 0, "caught": Catch.NOTHING} for a in env.possible_agents}
    *_, infos = env.step(CATCH_MOVES)
    assert infos == {a: {"t": 1, "caught": Catch.NOTHING} for a in env.possible_agents}
    *_, infos = env.step(CATCH_HUNTS)
    assert {a: info["caught"] for a, info in infos.items()} == dict(
        zip(env.possible_agents, CATCHES)
    )
    assert all(set(info) == {"t", "caught"} and info["t"] == 2 for info in infos.values())
    assert all(type(info["caught"]) is Catch for info in infos.values())
    *_, infos = env.step({"hunter_3": HUNT_HARE})
    assert infos == {"hunter_3": {"t": 3, "caught": Catch.NOTHING}}


def test_aec_infos_change_when_the_joint_step_runs():
    env = staghunt_env.env(layout=CATCH_LAYOUT)
    env.reset(seed=0)
    assert env.infos == {a: {"t": 0, "caught": Catch.NOTHING} for a in env.possible_agents}
    for actions in (CATCH_MOVES, CATCH_HUNTS):
        t = env.infos["hunter_0"]["t"]
        for agent in env.possible_agents:
            assert env.agent_selection == agent
            assert env.infos[agent]["t"] == t, "before the last agent acts, the last step's info"
            env.step(actions[agent])
    assert {a: env.infos[a]["caught"] for a in env.possible_agents} == dict(
        zip(env.possible_agents, CATCHES)
    )
    assert all(info["t"] == 2 and set(info) == {"t", "caught"} for info in env.infos.values())
    for agent in ("hunter_0", "hunter_1", "hunter_2"):  # the catchers are told as they leave
        assert env.agent_selection == agent
        *_, term, _, info = env.last()
        assert term and info["caught"] == CATCHES[agent_index(agent)]
        env.step(None)
    assert env.agents == ["hunter_3"] and env.agent_selection == "hunter_3"
    assert env.last()[-1] == {"t": 2, "caught": Catch.NOTHING}
    env.step(HUNT_HARE)
    assert env.infos == {"hunter_3": {"t": 3, "caught": Catch.NOTHING}}
