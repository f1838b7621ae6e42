"""The PPO baseline: tiny training runs, checkpoints that load (or are refused), and legal play."""

import dataclasses
import re

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

import staghunt_env
from staghunt_env import StagHuntConfig
from tom_agents.ppo import PPOAgent, PPOConfig, checkpoint_env_config, train_ppo
from tom_agents.ppo.agent import ENV_CONFIG_ATTR, read_checkpoint
from tom_agents.ppo.train import main, save_checkpoint

torch.set_num_threads(1)

ENV = {"grid_size": (5, 5), "max_block_components": 0, "max_cycles": 10}
TINY = {"num_envs": 2, "n_steps": 64, "batch_size": 256, "net_arch": (32,), "progress": False}
ROLLOUT = 64 * 2 * 4  # n_steps x game copies x hunters


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("ppo") / "ppo.zip"
    config = PPOConfig(out=str(out), env=ENV, total_timesteps=2048, **TINY)
    return config, train_ppo(config)


def play(env_config, checkpoint, seeds, episode_seed, **options):
    """One episode of the parallel env with a PPOAgent per seat; every action is checked legal."""
    env = staghunt_env.parallel_env(config=env_config)
    observations, infos = env.reset(seed=episode_seed)
    agents = {
        a: PPOAgent(env_config, seed=s, checkpoint=checkpoint, **options)
        for a, s in zip(env.possible_agents, seeds)
    }
    for name, agent in agents.items():
        agent.reset(name)
    history = []
    while env.agents:
        actions = {a: agents[a].act(observations[a], infos[a]) for a in env.agents}
        assert all(observations[a]["action_mask"][x] == 1 for a, x in actions.items())
        history.append(actions)
        observations, _, _, _, infos = env.step(actions)
    for agent in agents.values():
        agent.end_episode()
    return history


def test_checkpoint_plays_legal_episodes_reproducibly(trained):
    config, path = trained
    assert str(path) == config.out
    env_config = config.env_config()
    for episode in range(3):
        first = play(env_config, path, seeds=[1, 2, 3, 4], episode_seed=episode)
        assert 0 < len(first) <= env_config.max_cycles
        assert first == play(env_config, path, seeds=[1, 2, 3, 4], episode_seed=episode)
    greedy = play(env_config, path, seeds=[None] * 4, episode_seed=0, deterministic=True)
    assert greedy == play(env_config, path, seeds=[None] * 4, episode_seed=0, deterministic=True)


def test_act_batch_equals_act(trained):
    config, path = trained
    env_config = config.env_config()
    env = staghunt_env.parallel_env(config=env_config)
    observations, infos = env.reset(seed=7)
    names = env.agents * 3  # several agents per seat, with different seeds

    def agents():
        made = [PPOAgent(env_config, seed=i, checkpoint=path) for i in range(len(names))]
        for agent, name in zip(made, names):
            agent.reset(name)
        return made

    single, batched = agents(), agents()
    for _ in range(5):
        expected = [a.act(observations[n], infos[n]) for a, n in zip(single, names)]
        got = PPOAgent.act_batch(
            batched, [observations[n] for n in names], [infos[n] for n in names]
        )
        assert got == expected
    with pytest.raises(ValueError, match="one of each per agent"):
        PPOAgent.act_batch(batched, [observations[names[0]]], [{}])


def test_agents_from_one_file_share_one_model(trained):
    config, path = trained
    a = PPOAgent(config.env_config(), seed=0, checkpoint=path)
    b = PPOAgent(config.env_config(), seed=1, checkpoint=str(path), deterministic=True)
    assert a.model is b.model
    assert a.model.num_timesteps >= config.total_timesteps
    assert a.model.observation_space.shape == (5 * 5 * 7,)


def test_act_needs_reset_and_the_env_observation(trained):
    config, path = trained
    agent = PPOAgent(config.env_config(), checkpoint=path)
    observation = {"observation": np.zeros((5, 5, 7), np.int8), "action_mask": np.ones(7, np.int8)}
    with pytest.raises(RuntimeError, match="reset"):
        agent.act(observation, {})
    agent.reset("hunter_0")
    with pytest.raises(ValueError, match="shape"):
        agent.act({**observation, "observation": np.zeros((6, 6, 7), np.int8)}, {})


def test_bad_checkpoints_are_refused_by_name(trained, tmp_path):
    config, path = trained
    env_config = config.env_config()
    with pytest.raises(ValueError, match="ppo needs a checkpoint"):
        PPOAgent(env_config)
    missing = tmp_path / "missing.zip"
    with pytest.raises(ValueError, match=r"cannot read PPO checkpoint .*missing\.zip"):
        PPOAgent(env_config, checkpoint=missing)
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(path.read_bytes()[:5000])
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"not a checkpoint" * 100)
    for bad in (truncated, garbage):
        with pytest.raises(ValueError, match=re.escape(f"cannot read PPO checkpoint {bad}")):
            PPOAgent(env_config, checkpoint=bad)
    # a valid SB3 checkpoint that does not say which game it was trained for
    foreign = tmp_path / "foreign.zip"
    model = read_checkpoint(path)
    delattr(model, ENV_CONFIG_ATTR)
    save_checkpoint(model, foreign)
    with pytest.raises(ValueError, match="not a tom_agents PPO checkpoint"):
        PPOAgent(env_config, checkpoint=foreign)
    other = StagHuntConfig.make(**ENV, stag_reward=5.0)
    with pytest.raises(
        ValueError, match=r"another env configuration \(differs in \['stag_reward'\]"
    ):
        PPOAgent(other, checkpoint=path)
    resumed = dataclasses.replace(config, env={**ENV, "max_cycles": 12}, total_timesteps=4096)
    with pytest.raises(ValueError, match=r"differs in \['max_cycles'\]"):
        train_ppo(resumed, resume=True)
    corrupt = dataclasses.replace(config, out=str(truncated))
    with pytest.raises(ValueError, match=re.escape(str(truncated))):
        train_ppo(corrupt, resume=True)


def test_config_is_validated():
    with pytest.raises(ValueError, match="num_envs"):
        PPOConfig(num_envs=0)
    with pytest.raises(ValueError, match="gamma"):
        PPOConfig(gamma=1.5)
    with pytest.raises(ValueError, match=r"PPOConfig\.env: unknown config keyword"):
        PPOConfig(env={"grid": 5})
    with pytest.raises(ValueError, match="grid_size"):
        PPOConfig(env={"grid_size": (2, 2)})


def test_resume_continues_a_killed_run(tmp_path, monkeypatch):
    out = tmp_path / "run.zip"
    config = PPOConfig(
        out=str(out), env=ENV, total_timesteps=4 * ROLLOUT, checkpoint_every=ROLLOUT, **TINY
    )
    updates = 0
    train = PPO.train

    def killed_in_third_update(self):
        nonlocal updates
        updates += 1
        if updates == 3:
            raise KeyboardInterrupt
        train(self)

    monkeypatch.setattr(PPO, "train", killed_in_third_update)
    with pytest.raises(KeyboardInterrupt):
        train_ppo(config)
    monkeypatch.setattr(PPO, "train", train)
    assert read_checkpoint(out).num_timesteps == 2 * ROLLOUT  # saved after the second update
    assert not list(tmp_path.glob("*.tmp"))

    started = []
    learn = PPO.learn

    def spy(self, *args, **kwargs):
        started.append(self.num_timesteps)
        return learn(self, *args, **kwargs)

    monkeypatch.setattr(PPO, "learn", spy)
    before = PPOAgent(config.env_config(), checkpoint=out).model
    train_ppo(config, resume=True)
    after = PPOAgent(config.env_config(), checkpoint=out).model  # the file changed: read again
    assert after is not before and after.num_timesteps > before.num_timesteps
    assert started == [2 * ROLLOUT]
    assert read_checkpoint(out).num_timesteps >= config.total_timesteps
    stamp = out.stat().st_mtime_ns
    train_ppo(config, resume=True)  # already done: nothing to train, nothing written
    assert started == [2 * ROLLOUT] and out.stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="num_envs=2"):
        train_ppo(dataclasses.replace(config, num_envs=3, total_timesteps=8192), resume=True)


def test_cli_trains_a_prosocial_checkpoint(tmp_path, capsys):
    out = tmp_path / "cli" / "prosocial.zip"
    options = "--timesteps 1024 --num-envs 2 --prosocial --seed 3 --env grid_size=[5,5]"
    env = "--env max_block_components=0 --env max_cycles=10"
    main(["--out", str(out), *options.split(), *env.split()])
    assert str(out) in capsys.readouterr().out
    assert read_checkpoint(out).staghunt_env_config["prosocial"] is True
    assert (tmp_path / "cli" / "tensorboard").is_dir()
    prosocial = StagHuntConfig.make(**ENV, prosocial=True)
    agent = PPOAgent(prosocial, seed=0, checkpoint=out)
    agent.reset("hunter_0")
    observations, infos = staghunt_env.parallel_env(config=prosocial).reset(seed=0)
    assert 0 <= agent.act(observations["hunter_0"], infos["hunter_0"]) < 7
    # prosocial shaped the training rewards only: the policy plays the selfish game too
    assert checkpoint_env_config(out) == StagHuntConfig.make(**ENV)
    PPOAgent(StagHuntConfig.make(**ENV), checkpoint=out)
    with pytest.raises(SystemExit):
        main(["--env", "grid_size"])


def test_ppo_spec_plays_in_the_arena_and_by_name(trained):
    from tom_agents import make_agent
    from tom_agents.arena import play as arena_play

    config, path = trained
    lineup = [f"ppo:{path}", f"ppo:{path}", "nearest_stag", "random"]
    result = arena_play(lineup, 2, [0, 1, 2], progress=False)
    assert result.config == config.env_config()  # the game comes from the checkpoint
    assert np.isfinite(result.rewards).all() and (result.rewards >= 0).all()
    again = arena_play(lineup, 2, [0, 1, 2], progress=False)
    assert np.array_equal(result.rewards, again.rewards)
    agent = make_agent("ppo", config.env_config(), seed=0, checkpoint=str(path))
    assert isinstance(agent, PPOAgent)
    with pytest.raises(ValueError, match="ppo needs a checkpoint"):
        make_agent("ppo", config.env_config())
