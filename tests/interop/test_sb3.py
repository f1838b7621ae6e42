"""Stable-Baselines3 PPO trains on the stag hunt through SuperSuit's vector env (README snippet)."""

import math

import numpy as np
import pytest
import supersuit as ss
import torch
from readme import README, code_blocks

import staghunt_env

pytestmark = [
    pytest.mark.interop,
    # SB3's VecEnv looks for a render_mode that SuperSuit's concatenated vector env lacks
    pytest.mark.filterwarnings("ignore:The `render_mode` attribute is not defined:UserWarning"),
]


@pytest.fixture(scope="module")
def readme():
    """The README's SB3 snippet, run once: PPO trained for 4096 steps."""
    (block,) = code_blocks('python title="sb3"')
    namespace = {"__name__": "__readme__"}
    exec(compile(block, str(README), "exec"), namespace)
    return namespace


def test_sb3_ppo_learns_on_the_supersuit_vector_env(readme):
    ns = readme
    model, vec_env, actions = ns["model"], ns["vec_env"], ns["actions"]

    # 2 game copies x 4 hunters, each seeing the flattened 8x8x7 grid
    assert vec_env.num_envs == 8
    assert model.observation_space.shape == (8 * 8 * 7,)
    assert model.num_timesteps >= 4096
    # the last PPO update's statistics (SB3 logs them after the final train()): finite losses
    logged = model.logger.name_to_value
    assert logged["train/n_updates"] > 0
    for key in ("train/loss", "train/value_loss", "train/policy_gradient_loss"):
        assert math.isfinite(logged[key]), key
    assert all(torch.isfinite(p).all() for p in model.policy.parameters())
    # VecMonitor saw whole episodes end (35 steps each, +1 from black_death_v3)
    assert len(model.ep_info_buffer) > 0
    assert all(0 < ep["l"] <= 36 and math.isfinite(ep["r"]) for ep in model.ep_info_buffer)
    assert actions.shape == (8,)
    assert all(model.action_space.contains(int(a)) for a in actions)


def test_sb3_policy_plays_a_whole_episode_of_the_parallel_env(readme):
    model = readme["model"]
    env = ss.flatten_v0(staghunt_env.box_observation(staghunt_env.parallel_env()))
    observations, infos = env.reset(seed=1)
    steps = 0
    while env.agents:
        agents = env.agents
        batch = np.stack([observations[a] for a in agents])
        actions, _ = model.predict(batch, deterministic=False)
        assert actions.shape == (len(agents),)
        assert all(0 <= a < 7 for a in actions)
        observations, rewards, terminations, truncations, infos = env.step(
            {a: int(x) for a, x in zip(agents, actions)}
        )
        assert all(math.isfinite(r) for r in rewards.values())
        steps += 1
    assert 0 < steps <= env.unwrapped.config.max_cycles
