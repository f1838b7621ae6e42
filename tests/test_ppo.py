"""The PPO baseline: tiny training runs, checkpoints that load (or are refused), and legal play."""

import dataclasses
import re

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

import staghunt_env
from staghunt_env import StagHuntConfig
from tom_agents import checkpoints
from tom_agents.ppo import PPOAgent, PPOConfig, checkpoint_env_config, train_ppo
from tom_agents.ppo.checkpoint import read_checkpoint, save_checkpoint
from tom_agents.ppo.train import main
from tom_agents.run_folders import NothingToResumeError

torch.set_num_threads(1)

ENV = {"grid_size": (5, 5), "max_block_components": 0, "max_cycles": 10}
TINY = {"num_envs": 2, "n_steps": 64, "batch_size": 256, "net_arch": (32,), "progress": False}
ROLLOUT = 64 * 2 * 4  # n_steps x game copies x hunters


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("ppo") / "ppo.safetensors"
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
    missing = tmp_path / "missing.safetensors"
    with pytest.raises(ValueError, match=r"cannot use checkpoint .*missing\.safetensors"):
        PPOAgent(env_config, checkpoint=missing)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(path.read_bytes()[:5000])
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a checkpoint" * 100)
    # checkpoints of ours that are not PPO policies, or lack part of the description
    planner = checkpoints.save(tmp_path / "planner.safetensors", "planner", {"weights": {}})
    _, tree = checkpoints.load(path, "ppo")
    del tree["optimizer"]
    partial = checkpoints.save(tmp_path / "partial.safetensors", "ppo", tree)
    reasons = {
        truncated: "torn",
        garbage: "not a safetensors file",
        planner: "it is a 'planner' checkpoint, expected 'ppo'",
        partial: "not a usable PPO checkpoint .*optimizer",
    }
    for bad, reason in reasons.items():
        with pytest.raises(checkpoints.CheckpointError, match=re.escape(str(bad)) + ".*" + reason):
            PPOAgent(env_config, checkpoint=bad)
    other = StagHuntConfig.make(**ENV, stag_reward=5.0)
    with pytest.raises(
        ValueError, match=r"another env configuration \(differs in \['stag_reward'\]"
    ):
        PPOAgent(other, checkpoint=path)
    resumed = dataclasses.replace(config, env={**ENV, "max_cycles": 12}, total_timesteps=4096)
    with pytest.raises(NothingToResumeError, match=r"differs in \['max_cycles'\]"):
        train_ppo(resumed, resume=True)
    corrupt = dataclasses.replace(config, out=str(truncated))
    with pytest.raises(NothingToResumeError, match=re.escape(str(truncated)) + ".*torn"):
        train_ppo(corrupt, resume=True)


def test_a_checkpoint_rebuilds_the_same_model(trained, tmp_path):
    """Weights, optimizer state, counters and hyperparameters survive a save and a read."""
    config, path = trained
    model = read_checkpoint(path, "cpu")
    assert model.num_timesteps >= config.total_timesteps and model._n_updates > 0
    assert model.n_steps == config.n_steps and model.ent_coef == config.ent_coef
    assert model.policy.optimizer.state_dict()["state"]  # Adam's moments, for an exact resume
    again = read_checkpoint(save_checkpoint(model, tmp_path / "again.safetensors"), "cpu")
    first, second = model.policy.state_dict(), again.policy.state_dict()
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    adam, adam_again = model.policy.optimizer.state_dict(), again.policy.optimizer.state_dict()
    assert adam["param_groups"] == adam_again["param_groups"]
    for i, state in adam["state"].items():
        assert all(torch.equal(v, adam_again["state"][i][k]) for k, v in state.items())
    assert (again.num_timesteps, again._n_updates) == (model.num_timesteps, model._n_updates)
    before = torch.get_rng_state()
    read_checkpoint(path, "cpu")
    assert torch.equal(before, torch.get_rng_state())  # building a model draws nothing


def test_config_is_validated():
    with pytest.raises(ValueError, match="num_envs"):
        PPOConfig(num_envs=0)
    with pytest.raises(ValueError, match="gamma"):
        PPOConfig(gamma=1.5)
    with pytest.raises(ValueError, match=r"PPOConfig: unknown key 'env\.grid'"):
        PPOConfig(env={"grid": 5})
    with pytest.raises(ValueError, match="grid_size"):
        PPOConfig(env={"grid_size": (2, 2)})


def test_resume_continues_a_killed_run(tmp_path, monkeypatch):
    out = tmp_path / "run.safetensors"
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
    with pytest.raises(NothingToResumeError, match="trained with num_envs=2, not 3"):
        train_ppo(dataclasses.replace(config, num_envs=3, total_timesteps=8192), resume=True)


def test_cli_trains_a_prosocial_checkpoint(tmp_path, capsys):
    out = tmp_path / "cli" / "prosocial.safetensors"
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
