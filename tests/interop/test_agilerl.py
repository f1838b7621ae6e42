"""AgileRL: docs/interop.md's IPPO recipe trains on the stag hunt, and what it works around.

Runs where ``agilerl`` imports; AgileRL pins PettingZoo below 1.27 and tensordict 0.13, so CI
gives it its own virtual environment (.ci/interop).
"""

import math

import numpy as np
import pettingzoo
import pytest
import supersuit as ss
import torch
from agilerl.algorithms import IPPO
from agilerl.vector.pz_async_vec_env import AsyncPettingZooVecEnv
from packaging.version import Version
from pettingzoo.test import parallel_api_test

import staghunt_env
from staghunt_env import HUNT_HARE, STAY
from staghunt_env.interop import observation_view

pytestmark = pytest.mark.interop

RIGHT = 3
CATCH = {"layout": ["0H.H1"], "max_cycles": 5}  # hunter_0 steps onto a hare and hunts it


def catch_env():
    return observation_view(
        staghunt_env.parallel_env(**CATCH), dtype="float32", flatten=True, keys=None
    )


def catch_env_black_death():
    env = ss.black_death_v3(staghunt_env.box_observation(staghunt_env.parallel_env(**CATCH)))
    return observation_view(env, dtype="float32", flatten=True, keys=None)


def play_the_catch(make_env):
    """Two copies; in the first, hunter_0 catches its hare, then everyone stays."""
    env = AsyncPettingZooVecEnv([make_env, make_env])
    try:
        env.reset(seed=0)
        steps = []
        for first in (RIGHT, HUNT_HARE, STAY):
            actions = {"hunter_0": np.array([first, STAY]), "hunter_1": np.array([STAY, STAY])}
            steps.append(env.step(actions))
        return steps
    finally:
        env.close()


def test_installed_beside_agilerls_pettingzoo_pin():
    # AgileRL 2.58 requires pettingzoo<1.27; this env supports 1.24 to 1.27
    assert Version(pettingzoo.__version__) < Version("1.27")
    parallel_api_test(catch_env_black_death(), num_cycles=50)
    parallel_api_test(
        observation_view(
            staghunt_env.parallel_env(num_players=3), dtype="float32", flatten=True, keys=None
        ),
        num_cycles=100,
    )


def test_vector_env_fills_departed_hunters_with_nan():
    """AgileRL's fault, as docs/interop.md describes it."""
    *_, (obs, rewards, terminations, truncations, infos) = play_the_catch(catch_env)
    assert np.isnan(obs["hunter_0"][0]).all() and not np.isnan(obs["hunter_0"][1]).any()
    assert np.isnan(rewards["hunter_0"][0]) and np.isnan(terminations["hunter_0"][0])
    assert not np.isnan(obs["hunter_1"]).any()


def test_black_death_leaves_no_nan():
    (_, _, _, _, _), (_, rewards, *_), (obs, last_rewards, terminations, truncations, infos) = (
        play_the_catch(catch_env_black_death)
    )
    assert rewards["hunter_0"].tolist() == [1.0, 0.0]
    for values in (obs, last_rewards, terminations, truncations):
        assert not any(np.isnan(np.asarray(v, dtype=float)).any() for v in values.values())
    assert not obs["hunter_0"][0].any()  # the departed hunter sees zeros
    assert infos["hunter_0"]["action_mask"][0].tolist() == [0, 0, 0, 0, 1, 0, 0]  # STAY only
    assert terminations["hunter_0"].tolist() == [False, False]  # until the game ends for all


@pytest.mark.xfail(
    raises=ValueError,
    strict=True,
    reason="AgileRL 2.58's IPPO.extract_action_masks tests `None in [numpy masks]`; docs/interop.md",
)
def test_ippo_takes_numpy_masks():
    env = AsyncPettingZooVecEnv([catch_env, catch_env])
    try:
        obs, info = env.reset(seed=0)
        agent = IPPO(
            observation_spaces=[env.single_observation_space(a) for a in env.agents],
            action_spaces=[env.single_action_space(a) for a in env.agents],
            agent_ids=list(env.agents),
            device="cpu",
        )
        agent.get_action(obs=obs, infos=info)
    finally:
        env.close()


@pytest.fixture(scope="module")
def recipe(run_recipe):
    """docs/interop.md's AgileRL recipe, run once: three IPPO updates of 128 transitions."""
    return run_recipe("agilerl")


def test_ippo_recipe_trains_with_finite_losses(recipe):
    losses = recipe["losses"]
    assert len(losses) == 3
    assert all(set(loss) == {"hunter"} and math.isfinite(loss["hunter"]) for loss in losses)
    agent = recipe["agent"]
    assert set(agent.actors) == {"hunter"}  # one shared network for both hunters
    assert all(torch.isfinite(p).all() for p in agent.actors["hunter"].parameters())
    assert all(torch.isfinite(p).all() for p in agent.critics["hunter"].parameters())


def test_ippo_recipe_takes_only_legal_actions(recipe):
    taken = recipe["taken"]
    assert len(taken) == 3 * 64
    for masks, actions in taken:
        for agent_id in ("hunter_0", "hunter_1"):
            mask = np.asarray(masks[agent_id]["action_mask"]).reshape(2, 7)  # 2 envs x 7
            action = np.asarray(actions[agent_id])
            assert action.shape == (2,)
            assert mask[np.arange(2), action].all(), (mask, action)
