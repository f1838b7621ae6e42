"""The agents shipped with the package: they load from the safe format, play legally, refuse
another game, and the trained hop decides sensibly in hand-made positions of the default game."""

import numpy as np
import pytest

import staghunt_env
from staghunt_env import STAY, StagHuntConfig
from staghunt_env.rules import RIGHT
from tom_agents import make_agent
from tom_agents.pretrained import shipped

PLANNERS = ("hop", "direct_om", "mcts")
FAST = {"num_trees": 2, "num_simulations": 8}


def test_every_agent_the_issue_names_is_shipped():
    assert set(shipped()) >= {"hop", "direct_om", "mcts", "ppo", "ppo_prosocial"}


@pytest.mark.parametrize("name", sorted(shipped()))
def test_pretrained_agent_loads_and_plays_a_full_episode_legally(name):
    env = staghunt_env.parallel_env()
    options = FAST if name in PLANNERS else {}
    agents = {
        a: make_agent(name, env_config=env.config, seed=i, pretrained=True, **options)
        for i, a in enumerate(env.possible_agents)
    }
    observations, infos = env.reset(seed=1)
    for a, agent in agents.items():
        agent.reset(a)
    steps = 0
    while env.agents:
        actions = {a: agents[a].act(observations[a], infos[a]) for a in env.agents}
        for a, action in actions.items():
            assert observations[a]["action_mask"][action] == 1, (a, action)
        observations, _, _, _, infos = env.step(actions)
        steps += 1
    assert steps <= env.config.max_cycles


def test_another_game_is_refused_naming_what_differs():
    with pytest.raises(ValueError, match=r"trained on the default game.*grid_size"):
        make_agent("hop", env_config={"grid_size": (6, 6)}, pretrained=True)
    with pytest.raises(ValueError, match="num_hares"):
        make_agent("ppo", env_config={"num_hares": 2}, pretrained=True)


def test_unknown_pretrained_names_and_a_checkpoint_beside_pretrained_are_refused():
    with pytest.raises(ValueError, match="no pretrained 'nearest_hare'"):
        make_agent("nearest_hare", env_config=StagHuntConfig(), pretrained=True)
    with pytest.raises(ValueError, match="not both"):
        make_agent("hop", pretrained=True, checkpoint="x.safetensors")


# Hand-made positions of the default game (4 hunters, 1 stag, 4 hares, 8x8): a layout of the
# same game is accepted. hunter_0 is the pretrained hop or hop_plus; the others are scripted
# co-players whose habit hop already knows (its goal counts say so, as after earlier episodes).
HARE_LAYOUT = [
    "0H.....H",
    "........",
    "........",
    "...S....",
    "........",
    "........",
    "1......2",
    "H..3...H",
]
STAG_LAYOUT = [
    "H......H",
    "........",
    "........",
    "..0S1...",
    "........",
    "........",
    "2......3",
    "H......H",
]


def pretrained_hop(env, name: str, habit: int, seed: int):
    hop = make_agent(name, env_config=env.config, seed=seed, pretrained=True, greedy=True)
    hop.seat.goal_counts = np.tile(np.eye(2)[habit] * 10, (3, 1))  # 0 stag, 1 hare
    hop.reset("hunter_0")
    return hop


@pytest.mark.parametrize("name", ["hop", "hop_plus"])
@pytest.mark.parametrize("seed", range(3))
def test_pretrained_hop_takes_the_reachable_hare_beside_known_hare_hunters(name, seed):
    env = staghunt_env.parallel_env(layout=HARE_LAYOUT)
    observations, infos = env.reset(seed=0)
    hop = pretrained_hop(env, name, habit=1, seed=seed)
    others = {a: make_agent("nearest_hare", env_config=env.config) for a in env.agents[1:]}
    for a, agent in others.items():
        agent.reset(a)
    rewards = {}
    for _ in range(4):
        actions = {
            a: agent.act(observations[a], infos[a])
            for a, agent in others.items()
            if a in env.agents
        }
        actions["hunter_0"] = hop.act(observations["hunter_0"], infos["hunter_0"])
        observations, rewards, _, _, infos = env.step(actions)
        if "hunter_0" not in env.agents:
            break
    assert rewards.get("hunter_0") == 1.0, "the hare one step away was caught within 4 steps"


@pytest.mark.parametrize("name", ["hop", "hop_plus"])
@pytest.mark.parametrize("seed", range(3))
def test_pretrained_hop_joins_a_co_player_known_to_hunt_the_stag(name, seed):
    """hunter_1, a stag hunter (hop's goal counts say so), steps onto the stag beside hop and
    hunts it (a stag needs two hunters); hop steps on too and hunts: 5 points each."""
    env = staghunt_env.parallel_env(layout=STAG_LAYOUT)
    observations, infos = env.reset(seed=0)
    hop = pretrained_hop(env, name, habit=0, seed=seed)
    partner = make_agent("nearest_stag", env_config=env.config)
    partner.reset("hunter_1")
    taken, rewards = [], {}
    for _ in range(3):
        taken.append(hop.act(observations["hunter_0"], infos["hunter_0"]))
        joint = {a: STAY for a in env.agents}
        joint["hunter_0"] = taken[-1]
        if "hunter_1" in env.agents:
            joint["hunter_1"] = partner.act(observations["hunter_1"], infos["hunter_1"])
        observations, rewards, _, _, infos = env.step(joint)
        if "hunter_0" not in env.agents:
            break
    assert taken[0] == RIGHT and rewards.get("hunter_0") == 5.0, taken
