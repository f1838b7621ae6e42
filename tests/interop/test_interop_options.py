"""staghunt_env.interop.observation_view: every option keeps the spaces true to the data.

Needs only PettingZoo, Gymnasium and NumPy (SuperSuit where it is installed): no torch.
"""

import itertools

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo.test import parallel_api_test

import staghunt_env
from staghunt_env import STAY
from staghunt_env.interop import observation_view

pytestmark = pytest.mark.interop

CONFIG = {"num_players": 3, "grid_size": (5, 6), "num_hares": 3, "max_cycles": 15}
H, W, C = 5, 6, 3 + 3
OPTIONS = list(
    itertools.product(
        ["int8", "float32"],
        [False, True],
        [("observation", "action_mask"), ("observations", "action_mask"), None],
    )
)


def ids(option):
    dtype, flatten, keys = option
    return f"{dtype}-{'flat' if flatten else 'grid'}-{'box' if keys is None else keys[0]}"


def play(env, seed=0, cycles=200):
    """Random legal play over several episodes; every observation is checked against its space."""
    rng = np.random.default_rng(seed)
    observations, infos = env.reset(seed=seed)
    seen = 0
    for _ in range(cycles):
        if not env.agents:
            observations, infos = env.reset()
        for agent, obs in observations.items():
            assert env.observation_space(agent).contains(obs), agent
            seen += 1
        actions = {}
        for agent in env.agents:
            obs = observations[agent]
            mask = obs[env.keys[1]] if isinstance(obs, dict) else infos[agent]["action_mask"]
            assert mask.dtype == np.int8 and mask[STAY] == 1
            actions[agent] = int(rng.choice(np.flatnonzero(mask)))
        observations, rewards, terminations, truncations, infos = env.step(actions)
    return seen


@pytest.mark.parametrize("option", OPTIONS, ids=map(ids, OPTIONS))
def test_parallel_api_on_every_option(option):
    dtype, flatten, keys = option
    env = observation_view(
        staghunt_env.parallel_env(**CONFIG), dtype=dtype, flatten=flatten, keys=keys
    )
    parallel_api_test(env, num_cycles=200)
    assert play(env) > 0


@pytest.mark.parametrize("option", OPTIONS, ids=map(ids, OPTIONS))
def test_spaces_and_data_agree(option):
    dtype, flatten, keys = option
    env = observation_view(
        staghunt_env.parallel_env(**CONFIG), dtype=dtype, flatten=flatten, keys=keys
    )
    shape = (H * W * C,) if flatten else (H, W, C)
    space = env.observation_space("hunter_0")
    grid_space = space if keys is None else space[keys[0]]
    assert isinstance(grid_space, spaces.Box)
    assert grid_space.shape == shape and grid_space.dtype == np.dtype(dtype)
    assert (grid_space.low == 0).all() and (grid_space.high == 1).all()
    if keys is not None:
        assert set(space.spaces) == set(keys)
        assert space[keys[1]] == spaces.Box(0, 1, (7,), np.int8)

    raw = staghunt_env.parallel_env(**CONFIG)
    raw_obs, raw_infos = raw.reset(seed=7)
    obs, infos = env.reset(seed=7)
    for agent in raw.agents:
        grid = obs[agent] if keys is None else obs[agent][keys[0]]
        mask = infos[agent]["action_mask"] if keys is None else obs[agent][keys[1]]
        assert grid.dtype == np.dtype(dtype) and grid.shape == shape
        # the same numbers, in the same (row-major, channels-last) order
        np.testing.assert_array_equal(grid.reshape(H, W, C), raw_obs[agent]["observation"])
        np.testing.assert_array_equal(mask, raw_obs[agent]["action_mask"])
        assert infos[agent]["t"] == raw_infos[agent]["t"]
        if keys is not None:
            assert "action_mask" not in infos[agent]


def test_rllib_keys_and_float_flat_grid():
    env = observation_view(
        staghunt_env.parallel_env(),
        dtype="float32",
        flatten=True,
        keys=("observations", "action_mask"),
    )
    space = env.observation_space("hunter_0")
    assert space["observations"] == spaces.Box(0.0, 1.0, (8 * 8 * 7,), np.float32)
    obs, _ = env.reset(seed=0)
    assert set(obs["hunter_0"]) == {"observations", "action_mask"}


def test_bad_options_are_refused():
    env = staghunt_env.parallel_env()
    for dtype in ("float16", "float", "not a dtype"):
        with pytest.raises(ValueError, match="dtype"):
            observation_view(env, dtype=dtype)
    assert observation_view(env, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="keys"):
        observation_view(env, keys=("obs",))
    with pytest.raises(ValueError, match="keys"):
        observation_view(env, keys=("obs", "obs"))


def test_box_source_under_black_death():
    """box_observation -> black_death_v3 -> observation_view: departed hunters get zeros and a
    mask in which only STAY is legal, and the dict keeps its space."""
    ss = pytest.importorskip("supersuit")
    base = staghunt_env.box_observation(staghunt_env.parallel_env(layout=["0H.H1"], max_cycles=5))
    env = observation_view(ss.black_death_v3(base), dtype="float32")
    parallel_api_test(
        observation_view(
            ss.black_death_v3(staghunt_env.box_observation(staghunt_env.parallel_env(**CONFIG)))
        ),
        num_cycles=100,
    )
    right, hunt_hare = 3, staghunt_env.HUNT_HARE
    obs, infos = env.reset(seed=0)
    obs, *_ = env.step({"hunter_0": right, "hunter_1": STAY})
    assert obs["hunter_0"]["action_mask"][hunt_hare] == 1
    obs, rewards, terms, truncs, infos = env.step({"hunter_0": hunt_hare, "hunter_1": STAY})
    assert rewards["hunter_0"] == 1.0
    assert env.agents == ["hunter_0", "hunter_1"]  # black death keeps the departed hunter
    obs, rewards, terms, truncs, infos = env.step({"hunter_0": STAY, "hunter_1": STAY})
    departed = obs["hunter_0"]
    assert env.observation_space("hunter_0").contains(departed)
    assert not departed["observation"].any()
    assert departed["action_mask"].tolist() == [0, 0, 0, 0, 1, 0, 0]
    assert rewards["hunter_0"] == 0.0


def test_the_docs_example_runs(run_recipe):
    ns = run_recipe("interop-view")
    env = ns["env"]
    assert set(env.observation_space("hunter_0").spaces) == {"observations", "action_mask"}
    parallel_api_test(env, num_cycles=50)
