"""The agent API: every registered agent in a plain PettingZoo loop, the registry, input errors,
checkpoints, and what an agent that left early learns from the final state."""

import os

import numpy as np
import pytest
import torch

import staghunt_env
import tom_agents
from staghunt_env import HUNT_HARE, HUNT_STAG, STAY, Catch
from staghunt_env.rules import LEFT, RIGHT, UP
from tom_agents import PlannerAgent, make_agent, register_agent, registered_agents
from tom_agents import registry as registry_module
from tom_agents.ppo import PPOConfig, train_ppo
from tom_agents.runner import note_catches

NAMES = registered_agents()  # at import, before any test registers its own
SMALL = {"num_trees": 1, "num_simulations": 5}


_PPO: dict = {}  # env config -> a tiny PPO checkpoint for it


@pytest.fixture(scope="module", autouse=True)
def ppo_folder(tmp_path_factory):
    _PPO["folder"] = tmp_path_factory.mktemp("ppo")


def ppo_checkpoint(config):
    """A PPO policy trained for one rollout on ``config``'s game (cached per game)."""
    key = repr(config.to_dict())
    if key not in _PPO:
        out = _PPO["folder"] / f"ppo_{len(_PPO)}.zip"
        tiny = {"num_envs": 1, "n_steps": 64, "batch_size": 64, "net_arch": (16,)}
        run = PPOConfig(
            out=str(out), env=config.to_dict(), total_timesteps=64, progress=False, **tiny
        )
        _PPO[key] = str(train_ppo(run))
    return _PPO[key]


def build(name, config, seed=0):
    """A registered agent; planners get a small search budget, ppo a tiny trained policy."""
    if name == "ppo":
        return make_agent(name, env_config=config, seed=seed, checkpoint=ppo_checkpoint(config))
    agent = make_agent(name, env_config=config, seed=seed)
    if isinstance(agent, PlannerAgent):
        agent = make_agent(name, env_config=config, seed=seed, **SMALL)
    return agent


def test_the_documented_agents_are_registered():
    expected = {
        "random",
        "nearest_stag",
        "nearest_hare",
        "nearest_prey",
        "hop",
        "direct_om",
        "mcts",
        "ppo",
    }
    assert expected <= set(NAMES)


def play(env, agents, seed=0):
    """A plain parallel loop; returns the number of steps. Every action must be legal."""
    observations, infos = env.reset(seed=seed)
    for agent_id, agent in agents.items():
        agent.reset(agent_id)
    steps, outcome = 0, {}
    while env.agents:
        actions = {a: agents[a].act(observations[a], infos[a]) for a in env.agents}
        for a, action in actions.items():
            assert env.action_space(a).contains(action), (a, action)
            assert observations[a]["action_mask"][action] == 1, (a, action)
        observations, _, _, _, infos = env.step(actions)
        note_catches(outcome, infos)
        steps += 1
    for agent in agents.values():
        agent.end_episode(outcome)
    return steps


@pytest.mark.parametrize(
    "config", [{}, {"num_players": 2, "grid_size": (5, 5)}], ids=["default", "2p"]
)
@pytest.mark.parametrize("name", NAMES)
def test_every_registered_agent_plays_a_complete_episode(name, config):
    env = staghunt_env.parallel_env(**config)
    agents = {a: build(name, env.config, seed=i) for i, a in enumerate(env.possible_agents)}
    steps = play(env, agents, seed=3)
    assert 1 <= steps <= env.config.max_cycles
    steps = play(env, agents, seed=4)  # and a second episode with the same agents
    assert 1 <= steps <= env.config.max_cycles


# --------------------------------------------------------------------------- the registry


class AlwaysStay:
    """A user's own agent: it never moves."""

    def __init__(self, env_config, seed=None, patience=1):
        self.config, self.patience = env_config, patience

    def reset(self, agent_id):
        self.agent_id = agent_id

    def act(self, observation, info):
        return STAY

    def end_episode(self, outcome=None):
        self.outcome = outcome


@pytest.fixture
def own_registry(monkeypatch):
    """Registrations made by a test vanish after it."""
    monkeypatch.setattr(registry_module, "_REGISTRY", dict(registry_module._REGISTRY))


def test_register_agent_makes_make_agent_accept_a_users_class(own_registry):
    assert "always_stay" not in registered_agents()
    register_agent("always_stay", AlwaysStay)
    assert "always_stay" in registered_agents()
    env = staghunt_env.parallel_env(max_cycles=5)
    agent = make_agent("always_stay", env_config=env.config, patience=3)
    assert isinstance(agent, AlwaysStay)
    assert agent.config == env.config and agent.patience == 3
    # configuration keywords are accepted in place of a config
    assert make_agent("always_stay", env_config={"num_players": 3}).config.num_players == 3
    agents = {a: make_agent("always_stay", env_config=env.config) for a in env.possible_agents}
    assert play(env, agents) == 5
    with pytest.raises(ValueError, match="always_stay"):
        make_agent("always_stay", env_config=env.config, speed=2)  # an option it does not take
    with pytest.raises(TypeError):
        register_agent("not_callable", 42)


def test_an_unknown_agent_name_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="no_such_agent"):
        make_agent("no_such_agent", env_config={})


def test_planner_options_are_checked():
    with pytest.raises(ValueError, match="opponent_model"):
        make_agent("hop", env_config={}, opponent_model="telepathy")
    env = staghunt_env.parallel_env()
    observations, infos = env.reset(seed=0)
    with pytest.raises(ValueError, match="num_simulations"):  # at the latest when it searches
        agent = make_agent("hop", env_config=env.config, num_simulations=0)
        agent.reset("hunter_0")
        agent.act(observations["hunter_0"], infos["hunter_0"])
    with pytest.raises(ValueError, match="hop"):
        make_agent("hop", env_config={}, no_such_option=1)


# --------------------------------------------------------------------------- input errors


@pytest.mark.parametrize("name", NAMES)
def test_an_observation_from_another_game_is_a_value_error_naming_the_problem(name):
    config = staghunt_env.parallel_env().config  # 4 players, 8 x 8
    agent = build(name, config)
    agent.reset("hunter_0")
    for other, problem in (
        ({"grid_size": (6, 6)}, "grid_size"),
        ({"num_players": 3}, "num_players"),
    ):
        env = staghunt_env.parallel_env(**other)
        observations, infos = env.reset(seed=0)
        with pytest.raises(ValueError, match=problem):
            agent.act(observations["hunter_0"], infos["hunter_0"])


@pytest.mark.parametrize("name", NAMES)
def test_act_before_reset_is_a_runtime_error(name):
    env = staghunt_env.parallel_env()
    observations, infos = env.reset(seed=0)
    agent = build(name, env.config)
    with pytest.raises(RuntimeError, match="reset"):
        agent.act(observations["hunter_0"], infos["hunter_0"])


# --------------------------------------------------------------------------- checkpoints


def state_dicts(agent):
    return [agent.networks.policy_value.state_dict()] + [
        net.state_dict() for net in agent.networks.opponent_nets
    ]


def assert_same_weights(a, b):
    sa, sb = state_dicts(a), state_dicts(b)
    assert len(sa) == len(sb)
    for x, y in zip(sa, sb):
        assert x.keys() == y.keys()
        for k in x:
            assert torch.equal(x[k], y[k]), k


@pytest.mark.parametrize("name", ["hop", "direct_om", "mcts"])
def test_a_checkpoint_restores_the_weights_and_the_goal_counts(name, tmp_path):
    config = staghunt_env.parallel_env().config
    agent = make_agent(name, env_config=config, seed=3, **SMALL)
    with torch.no_grad():  # weights no fresh agent has ("training")
        for module in [agent.networks.policy_value, *agent.networks.opponent_nets]:
            for p in module.parameters():
                p.add_(0.01 * torch.randn_like(p))
    agent.seat.goal_counts = np.array([[1.5, 0.25], [0.0, 2.0], [0.995, 0.0]])
    path = tmp_path / "agent.pt"
    agent.save(path)
    assert os.listdir(tmp_path) == ["agent.pt"], "no temporary file left behind"

    fresh = make_agent(name, env_config=config, seed=3, **SMALL)
    assert not torch.equal(
        fresh.networks.policy_value.fc.weight, agent.networks.policy_value.fc.weight
    )
    restored = make_agent(name, env_config=config, seed=3, checkpoint=str(path), **SMALL)
    assert_same_weights(restored, agent)
    np.testing.assert_array_equal(restored.seat.goal_counts, agent.seat.goal_counts)
    restored.reset("hunter_1")
    np.testing.assert_allclose(restored.seat.prior[0], [1.5 / 1.75, 0.25 / 1.75])
    # same weights and seed: the same decisions
    env = staghunt_env.parallel_env()
    observations, infos = env.reset(seed=0)
    agent.reset("hunter_1")
    for _ in range(3):
        a = agent.act(observations["hunter_1"], infos["hunter_1"])
        assert restored.act(observations["hunter_1"], infos["hunter_1"]) == a
        observations, _, _, _, infos = env.step({x: STAY for x in env.agents} | {"hunter_1": a})


def test_a_checkpoint_of_another_configuration_is_refused_naming_the_field(tmp_path):
    path = tmp_path / "three_hares.pt"
    make_agent("hop", env_config={"num_hares": 3}, **SMALL).save(path)
    with pytest.raises(ValueError, match="num_hares"):
        make_agent("hop", env_config={}, checkpoint=str(path))
    # and one of another agent kind
    path = tmp_path / "direct_om.pt"
    make_agent("direct_om", env_config={}, **SMALL).save(path)
    with pytest.raises(ValueError, match="opponent_model"):
        make_agent("hop", env_config={}, checkpoint=str(path))


def test_a_corrupt_checkpoint_is_a_value_error(tmp_path):
    good = tmp_path / "good.pt"
    make_agent("hop", env_config={}, **SMALL).save(good)
    data = good.read_bytes()
    cases = {
        "random.pt": np.random.default_rng(0).bytes(4096),
        "truncated.pt": data[: len(data) // 2],
        "empty.pt": b"",
    }
    for file_name, content in cases.items():
        path = tmp_path / file_name
        path.write_bytes(content)
        with pytest.raises(ValueError, match="checkpoint"):
            make_agent("hop", env_config={}, checkpoint=str(path))
    other = tmp_path / "other.pt"
    torch.save({"weights": [1, 2, 3]}, other)  # a readable file, but not ours
    with pytest.raises(ValueError, match="checkpoint"):
        make_agent("hop", env_config={}, checkpoint=str(other))


# --------------------------------------------------------------------------- leaving early

# hunter_0 catches its hare at step 2 and leaves; then hunter_3 catches the other hare (step 3)
# and hunter_1 and hunter_2 the stag together (step 4). When hunter_0 last looked (t = 1), each
# of them was nearest to the prey it went on to catch.
EARLY_LAYOUT = [
    "0H......",
    "........",
    ".1.S..2.",
    "........",
    "....3.H.",
]
EARLY_SCRIPT = [
    {"hunter_0": RIGHT, "hunter_1": RIGHT, "hunter_2": LEFT, "hunter_3": RIGHT},
    {"hunter_0": HUNT_HARE, "hunter_1": RIGHT, "hunter_2": LEFT, "hunter_3": RIGHT},
    {"hunter_1": HUNT_STAG, "hunter_2": LEFT, "hunter_3": HUNT_HARE},
    {"hunter_1": HUNT_STAG, "hunter_2": HUNT_STAG},
]


def play_early_leaver(layout, script, hop):
    """hunter_0 is ``hop`` (its act is called for perception; the script moves it)."""
    env = staghunt_env.parallel_env(layout=layout)
    observations, infos = env.reset(seed=0)
    hop.reset("hunter_0")
    rewards_seen, outcome = {}, {}
    for actions in script:
        assert set(actions) == set(env.agents), (actions, env.agents)
        if "hunter_0" in env.agents:
            hop.act(observations["hunter_0"], infos["hunter_0"])
        observations, rewards, _, _, infos = env.step(actions)
        note_catches(outcome, infos)
        for a, r in rewards.items():
            rewards_seen[a] = rewards_seen.get(a, 0.0) + r
    assert env.agents == [], "the script plays the whole episode"
    return outcome, rewards_seen


def test_end_episode_with_the_outcome_records_goals_realised_after_leaving():
    config = staghunt_env.parallel_env(layout=EARLY_LAYOUT).config
    hop = make_agent("hop", env_config=config, seed=0, opponent_model="scripted", **SMALL)
    outcome, rewards = play_early_leaver(EARLY_LAYOUT, EARLY_SCRIPT, hop)
    assert rewards == {"hunter_0": 1.0, "hunter_1": 5.0, "hunter_2": 5.0, "hunter_3": 1.0}
    assert outcome == {
        "hunter_0": Catch.HARE,
        "hunter_1": Catch.STAG,
        "hunter_2": Catch.STAG,
        "hunter_3": Catch.HARE,
    }
    assert hop.seat.realised.tolist() == [-1, -1, -1], "it left before anyone else caught anything"
    hop.end_episode(outcome)
    assert hop.seat.realised.tolist() == [0, 0, 1]  # seats: hunter_1, hunter_2, hunter_3
    np.testing.assert_allclose(hop.seat.goal_counts, [[1, 0], [1, 0], [0, 1]])

    # without the outcome nothing was seen: the counts only decay (from zero)
    blind = make_agent("hop", env_config=config, seed=0, opponent_model="scripted", **SMALL)
    play_early_leaver(EARLY_LAYOUT, EARLY_SCRIPT, blind)
    blind.end_episode()
    assert blind.seat.realised.tolist() == [-1, -1, -1]
    np.testing.assert_allclose(blind.seat.goal_counts, 0.0)


def test_the_focal_agents_own_catch_is_not_credited_to_a_co_player():
    # hunter_1 stands right beside hunter_0's hare, then walks to the stag and catches it with
    # hunter_2 after hunter_0 has left: the vanished hare next to it was hunter_0's own catch.
    layout = [
        "0H.S..2",
        ".1.....",
        ".......",
    ]
    script = [
        {"hunter_0": RIGHT, "hunter_1": STAY, "hunter_2": LEFT},
        {"hunter_0": HUNT_HARE, "hunter_1": RIGHT, "hunter_2": LEFT},
        {"hunter_1": RIGHT, "hunter_2": LEFT},
        {"hunter_1": UP, "hunter_2": HUNT_STAG},  # hunter_2 waits on the stag alone
        {"hunter_1": HUNT_STAG, "hunter_2": HUNT_STAG},
    ]
    config = staghunt_env.parallel_env(layout=layout).config
    hop = make_agent("hop", env_config=config, seed=0, opponent_model="scripted", **SMALL)
    outcome, rewards = play_early_leaver(layout, script, hop)
    assert rewards == {"hunter_0": 1.0, "hunter_1": 5.0, "hunter_2": 5.0}
    hop.end_episode(outcome)
    assert hop.seat.realised.tolist() == [0, 0]


def test_tom_agents_exports_the_documented_names():
    for name in ("Agent", "PlannerAgent", "act_batch", "make_agent", "register_agent"):
        assert hasattr(tom_agents, name)
