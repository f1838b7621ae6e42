"""Tianshou: docs/interop.md's DQN recipe trains on the stag hunt, through black_death_v3.

Runs where ``tianshou`` is installed; CI gives it its own virtual environment (.ci/interop).
"""

import math

import numpy as np
import pytest
import torch
from tianshou.utils.torch_utils import policy_within_training_step, torch_train_mode

from staghunt_env import HUNT_HARE, STAY

pytestmark = pytest.mark.interop

RIGHT = 3


def test_plain_aec_env_ends_the_episode_at_the_first_catch(run_recipe):
    """Tianshou's fault, as the docs show it: done while hunter_1 still plays."""
    ns = run_recipe("tianshou-first-catch")
    assert ns["terminated"] is True
    assert ns["rewards"] == [1.0, 0.0]
    assert ns["env"].env.agents == ["hunter_0", "hunter_1"]
    assert not ns["env"].env.terminations["hunter_1"]


@pytest.fixture(scope="module")
def recipe(run_recipe):
    """docs/interop.md's Tianshou recipe, run once: one epoch of 300 steps, two DQN learners."""
    return run_recipe("tianshou")


def test_black_death_keeps_the_episode_going_after_a_catch(recipe):
    env = recipe["get_env"]({"layout": ["0H.H1"], "max_cycles": 4})
    obs, _ = env.reset(seed=0)
    assert obs["obs"].dtype == np.int8 and obs["mask"][RIGHT]
    moves = [RIGHT, STAY, HUNT_HARE, STAY]  # hunter_0 catches its hare in the second round
    terminated = truncated = False
    steps = 0
    while not (terminated or truncated):
        agent = obs["agent_id"]
        action = moves[steps] if steps < len(moves) else STAY
        assert obs["mask"][action]
        obs, rewards, terminated, truncated, _ = env.step(action)
        steps += 1
        if steps == len(moves):
            assert rewards == [1.0, 0.0] and not terminated  # the catch no longer ends it
        if agent == "hunter_1" and steps > len(moves):
            # hunter_0 is next (obs is its own): it left, sees zeros and may only STAY, until
            # the game ends for everyone
            assert not np.asarray(obs["obs"]).any() and np.flatnonzero(obs["mask"]).tolist() == [
                STAY
            ]
    # 4 rounds of 2 moves, then black_death_v3's one empty round
    assert steps == 2 * (4 + 1)
    assert terminated and truncated


def test_dqn_recipe_trains_end_to_end(recipe):
    result, algorithm = recipe["result"], recipe["algorithm"]
    assert result.update_step > 0
    assert result.train_step >= 300 and result.train_episode >= 1
    assert result.test_episode >= 2 and math.isfinite(result.best_reward)
    buffer = recipe["training_collector"].buffer
    with policy_within_training_step(algorithm.policy), torch_train_mode(algorithm):
        stats = algorithm.update(buffer, 32).get_loss_stats_dict()
    assert {"hunter_0/loss", "hunter_1/loss"} <= stats.keys()
    assert all(math.isfinite(v) for v in stats.values())
    assert all(torch.isfinite(p).all() for p in algorithm.parameters())


def test_dqn_recipe_takes_only_legal_actions(recipe):
    buffer = recipe["training_collector"].buffer
    batch, _ = buffer.sample(0)  # everything collected
    masks = np.asarray(batch.obs.mask, dtype=bool)
    actions = np.asarray(batch.act)
    assert len(actions) >= 300
    assert masks[np.arange(len(actions)), actions].all()
    assert set(np.unique(batch.obs.agent_id)) == {"hunter_0", "hunter_1"}
    assert np.isfinite(batch.rew).all() and batch.rew.shape[1] == 2
