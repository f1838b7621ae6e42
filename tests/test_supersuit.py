"""The env inside SuperSuit's black-death and vector-env wrappers, as the README shows."""

import numpy as np
import pytest
import supersuit as ss

import staghunt_env
from staghunt_env import STAY

pytestmark = pytest.mark.interop

CONFIGS = {
    "small": {"num_players": 3, "grid_size": (5, 5), "num_hares": 3, "max_cycles": 12},
    "default": {"max_cycles": 20},
    "early_end": {
        "num_players": 2,
        "grid_size": (5, 5),
        "num_hares": 2,
        "max_block_components": 2,
        "end_after_first_hunt": 1,
    },
}


def vector_env(config, copies=2):
    env = staghunt_env.box_observation(staghunt_env.parallel_env(**config))
    env = ss.black_death_v3(env)
    vec = ss.pettingzoo_env_to_vec_env_v1(env)
    return ss.concat_vec_envs_v1(vec, copies, num_cpus=0, base_class="gymnasium")


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_random_play_through_several_episodes(name):
    config = CONFIGS[name]
    n = config.get("num_players", 4)
    h, w = config.get("grid_size", (8, 8))
    vec = vector_env(config)
    assert vec.num_envs == 2 * n
    assert vec.observation_space.shape == (h, w, n + 3)
    assert vec.observation_space.dtype == np.int8
    assert vec.action_space.n == 7

    observations, infos = vec.reset(seed=0)
    rng = np.random.default_rng(0)
    episodes_done = 0
    caught = 0.0
    for _ in range(400):
        assert observations.shape == (2 * n, h, w, n + 3) and observations.dtype == np.int8
        assert len(infos) == 2 * n
        actions = np.zeros(2 * n, dtype=np.int64)
        for k, info in enumerate(infos):
            if "action_mask" in info:
                mask = info["action_mask"]
                assert mask.shape == (7,) and mask.dtype == np.int8 and mask[STAY] == 1
                actions[k] = rng.choice(np.flatnonzero(mask))
            else:  # a departed hunter (black death): zero observation, its action is ignored
                assert not observations[k].any()
                actions[k] = rng.integers(0, 7)
        observations, rewards, terminations, truncations, infos = vec.step(actions)
        assert rewards.shape == (2 * n,) and rewards.dtype == np.float32
        assert terminations.shape == truncations.shape == (2 * n,)
        caught += float(rewards.sum())
        done = np.asarray(terminations, bool) | np.asarray(truncations, bool)
        for game in range(2):
            block = done[game * n : (game + 1) * n]
            assert block.all() or not block.any(), "a game ends for all its hunters at once"
            if block.all():
                episodes_done += 1
                for k in range(game * n, (game + 1) * n):
                    final = infos[k]["terminal_observation"]
                    assert final.shape == (h, w, n + 3) and final.dtype == np.int8
                    # the game was reset: every hunter is back on the grid with a mask
                    assert "action_mask" in infos[k] and infos[k]["t"] == 0
    assert episodes_done >= 6, episodes_done
    assert caught > 0, "somebody caught something in 400 steps of random play"
    vec.close()


def test_the_extra_step_after_the_end_returns_empty_dicts():
    env = staghunt_env.parallel_env(
        num_players=2, grid_size=(4, 4), max_block_components=1, max_cycles=3
    )
    box = staghunt_env.box_observation(staghunt_env.parallel_env(num_players=2, max_cycles=3))
    for e in (env, box):
        e.reset(seed=0)
        while e.agents:
            e.step(dict.fromkeys(e.agents, STAY))
        for _ in range(2):
            assert e.step({}) == ({}, {}, {}, {}, {})
        assert e.agents == []
        e.reset(seed=1)
        assert e.agents == e.possible_agents


def test_black_death_sees_the_end_through_the_extra_step():
    env = ss.black_death_v3(
        staghunt_env.box_observation(
            staghunt_env.parallel_env(
                num_players=2, grid_size=(4, 4), max_block_components=1, max_cycles=2
            )
        )
    )
    env.reset(seed=0)
    for _ in range(2):
        *_, infos = env.step(dict.fromkeys(env.possible_agents, STAY))
    observations, rewards, terminations, truncations, infos = env.step(
        dict.fromkeys(env.possible_agents, STAY)
    )
    assert all(terminations.values()) and all(truncations.values())
    assert all(not o.any() for o in observations.values())
    assert rewards == dict.fromkeys(env.possible_agents, 0.0)


def test_box_observation_moves_the_mask_into_infos():
    config = {"num_players": 3, "grid_size": (6, 6)}
    plain = staghunt_env.parallel_env(**config)
    box = staghunt_env.box_observation(staghunt_env.parallel_env(**config))
    for agent in box.possible_agents:
        space = box.observation_space(agent)
        assert space.shape == (6, 6, 6) and space.dtype == np.int8
        assert box.action_space(agent).n == 7
    obs_p, info_p = plain.reset(seed=5)
    obs_b, info_b = box.reset(seed=5)
    rng = np.random.default_rng(5)
    while plain.agents:
        assert box.agents == plain.agents
        for agent in obs_p:
            assert isinstance(obs_b[agent], np.ndarray)
            np.testing.assert_array_equal(obs_b[agent], obs_p[agent]["observation"])
            assert box.observation_space(agent).contains(obs_b[agent])
            mask = info_b[agent]["action_mask"]
            assert mask.shape == (7,) and mask.dtype == np.int8
            np.testing.assert_array_equal(mask, obs_p[agent]["action_mask"])
            assert info_b[agent]["t"] == info_p[agent]["t"]
        actions = {
            a: int(rng.choice(np.flatnonzero(obs_p[a]["action_mask"]))) for a in plain.agents
        }
        obs_p, rew_p, term_p, trunc_p, info_p = plain.step(actions)
        obs_b, rew_b, term_b, trunc_b, info_b = box.step(actions)
        assert (rew_b, term_b, trunc_b) == (rew_p, term_p, trunc_p)
    assert box.agents == []
