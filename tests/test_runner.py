"""The one episode runner: who caught what comes from the rules, and every agent is told."""

import numpy as np

from staghunt_env import HUNT_HARE, HUNT_STAG, BatchedStagHunt, Catch, StagHuntConfig
from staghunt_env.rules import RIGHT, UP
from tom_agents.runner import Runner


class Script:
    """Plays a fixed list of actions; keeps the outcome it is told."""

    def __init__(self, actions):
        self.actions = list(actions)
        self.outcome = None

    def reset(self, agent_id):
        self.step = 0

    def act(self, observation, info):
        self.step += 1
        return self.actions[self.step - 1]

    def end_episode(self, outcome=None):
        self.outcome = outcome


def play(layout, scripts, **config):
    games = BatchedStagHunt(1, config=StagHuntConfig.make(layout=layout, **config))
    games.reset()
    players = [[Script(s) for s in scripts]]
    episodes = []
    Runner(games, players, one_episode=True).run(episodes.append)
    (episode,) = episodes
    return episode, players[0]


def test_a_lone_failed_stag_hunt_with_a_prosocial_reward_is_not_a_catch():
    # hunter 0 takes the hare; hunter 1 hunts the stag alone, which fails; then only a stag is
    # left for one hunter, so the game ends; with prosocial rewards hunter 1 is paid 0.5 anyway
    scripts = [[RIGHT, HUNT_HARE], [RIGHT, HUNT_STAG]]
    episode, players = play(["0H.", "1S."], scripts, prosocial=True)
    assert episode.returns.tolist() == [0.5, 0.5] and episode.length == 2
    assert episode.caught.tolist() == [Catch.HARE, Catch.NOTHING]
    assert episode.catch_step.tolist() == [2, -1]
    for agent in players:
        assert agent.outcome == {"hunter_0": Catch.HARE, "hunter_1": Catch.NOTHING}


def test_two_stag_hunters_are_both_told_they_caught_the_stag():
    scripts = [[RIGHT, HUNT_STAG], [UP, HUNT_STAG], [RIGHT, HUNT_HARE]]
    episode, players = play(["0S.", ".1.", "2H."], scripts, num_players=3)
    assert episode.caught.tolist() == [Catch.STAG, Catch.STAG, Catch.HARE]
    assert episode.catch_step.tolist() == [2, 2, 2]
    assert np.allclose(episode.returns, [5.0, 5.0, 1.0])
    assert players[2].outcome == episode.outcome
