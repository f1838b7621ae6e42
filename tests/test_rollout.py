"""Self-play bookkeeping: who caught what, read from the game, not guessed from rewards."""

import numpy as np

from staghunt_env import HUNT_HARE, HUNT_STAG, StagHuntConfig
from staghunt_env.rules import RIGHT
from tom_agents.selfplay.rollout import SelfPlayRollout, make_agents

TINY = {"num_trees": 1, "num_simulations": 2, "channels": (4, 4, 4), "hidden": 8}


def test_a_lone_failed_stag_hunt_with_a_prosocial_reward_is_not_a_catch():
    # hunter 0 takes the hare; hunter 1 hunts the stag alone, which fails; then only a stag is
    # left for one hunter, so the game ends; with prosocial rewards hunter 1 is paid 0.5 anyway
    config = StagHuntConfig.make(layout=["0H.", "1S."], prosocial=True)
    owners, players = make_agents(config, 1, True, seed=0, device="cpu", options=TINY)
    rollout = SelfPlayRollout(config, owners, players, seed=0, gamma=0.95)
    for joint in ([[RIGHT, RIGHT]], [[HUNT_HARE, HUNT_STAG]]):
        joint = np.array(joint)
        playing = rollout.games.state.alive & ~rollout.games.state.over[:, None]
        _, _, rewards, terminated, _ = rollout.games.step(joint)
        rollout._note_catches(playing, joint)
    assert rollout.games.episode_ended[0]
    assert rewards[0].tolist() == [0.5, 0.5] and terminated[0].all()
    assert rollout.caught[0].tolist() == [1, -1], "hunter 0 caught a hare; hunter 1 nothing"
