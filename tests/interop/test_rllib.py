"""RLlib's PettingZoo wrappers run the stag hunt, parallel and AEC (README snippet).

Runs where ``ray[rllib]`` is installed; CI gives it its own virtual environment (.ci/run).
"""

import pytest
from ray.rllib.connectors.env_to_module import FlattenObservations
from ray.rllib.env.multi_agent_env_runner import MultiAgentEnvRunner
from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv, PettingZooEnv
from readme import README, code_blocks

import staghunt_env
from staghunt_env import HUNT_HARE, STAY

pytestmark = pytest.mark.interop

RIGHT = 3
# Hunter 0 steps onto a hare and hunts it at the last step; hunter 1 is truncated meanwhile.
CATCH_AT_TIMEOUT = {"layout": ["0H.H1"], "max_cycles": 2}


def test_readme_snippet_plays_whole_episodes_with_legal_actions():
    (block,) = code_blocks("python rllib")
    ns = {"__name__": "__readme__"}
    exec(compile(block, str(README), "exec"), ns)
    terminateds, truncateds = ns["terminateds"], ns["truncateds"]
    assert terminateds["__all__"] or truncateds["__all__"]
    assert not ns["env"].env.agents  # the AEC episode is over


def test_parallel_wrapper_episode_with_legal_actions():
    base = staghunt_env.parallel_env(num_players=3, render_mode="ansi")
    env = ParallelPettingZooEnv(base)
    assert set(env.observation_space) == set(base.possible_agents)
    obs, infos = env.reset(seed=3)
    assert set(obs) == set(base.possible_agents)
    terminateds = truncateds = {"__all__": False}
    steps = 0
    while not (terminateds["__all__"] or truncateds["__all__"]):
        # a hunter that left in the last step still reports its final observation
        live = [a for a in obs if not (terminateds.get(a) or truncateds.get(a))]
        actions = {}
        for agent in live:
            assert env.observation_space[agent].contains(obs[agent])
            actions[agent] = env.action_space[agent].sample(obs[agent]["action_mask"])
            assert obs[agent]["action_mask"][actions[agent]] == 1
        obs, rewards, terminateds, truncateds, infos = env.step(actions)
        steps += 1
    assert not base.agents
    assert steps <= base.config.max_cycles + 1
    assert isinstance(env.render(), str)  # RLlib passes the render mode positionally


def test_aec_wrapper_episode_with_legal_actions():
    env = PettingZooEnv(staghunt_env.env(num_players=3))
    obs, infos = env.reset(seed=4)
    assert list(obs) == [env.env.agent_selection]  # only the hunter to act observes
    terminateds = truncateds = {"__all__": False}
    moves = 0
    while not (terminateds["__all__"] or truncateds["__all__"]):
        agent = env.env.agent_selection
        mask = obs[agent]["action_mask"]
        action = env.action_space[agent].sample(mask)
        assert mask[action] == 1
        obs, rewards, terminateds, truncateds, infos = env.step({agent: action})
        moves += 1
    assert not env.env.agents
    assert 3 <= moves <= 3 * env.env.unwrapped.config.max_cycles


def test_catch_at_timeout_reports_all_done_one_empty_step_later():
    # RLlib sets "__all__" only if all last-step hunters were terminated, or all truncated.
    env = ParallelPettingZooEnv(staghunt_env.parallel_env(**CATCH_AT_TIMEOUT))
    env.reset(seed=0)
    env.step({"hunter_0": RIGHT, "hunter_1": STAY})
    _, rewards, terminateds, truncateds, _ = env.step({"hunter_0": HUNT_HARE, "hunter_1": STAY})
    assert rewards == {"hunter_0": 1.0, "hunter_1": 0.0}
    assert terminateds == {"hunter_0": True, "hunter_1": False, "__all__": False}
    assert truncateds == {"hunter_0": False, "hunter_1": True, "__all__": False}
    assert not env.par_env.agents
    assert env.step({}) == ({}, {}, {"__all__": True}, {"__all__": True}, {})


def test_rllib_env_runner_samples_episodes():
    def make_env(config):
        env = staghunt_env.parallel_env(**config)
        return ParallelPettingZooEnv(staghunt_env.box_observation(env))

    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env

    register_env("staghunt_interop", make_env)
    config = (
        PPOConfig()
        .environment("staghunt_interop", env_config={"num_players": 2, "max_cycles": 20})
        .env_runners(
            num_env_runners=0,
            env_to_module_connector=lambda env, spaces=None, device=None: FlattenObservations(
                multi_agent=True
            ),
        )
        .multi_agent(
            policies={"shared"}, policy_mapping_fn=lambda agent_id, episode, **kw: "shared"
        )
    )
    runner = MultiAgentEnvRunner(config=config)
    try:
        episodes = runner.sample(num_timesteps=100, random_actions=False)
    finally:
        runner.stop()
    finished = [e for e in episodes if e.is_done]
    assert finished
    assert all(0 < e.env_steps() <= 20 for e in finished)
    assert all(e.agent_steps() <= 2 * e.env_steps() for e in episodes)
    assert sum(e.env_steps() for e in episodes) >= 100
