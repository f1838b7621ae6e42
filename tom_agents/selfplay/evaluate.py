"""Evaluation on fixed seeds: every game plays exactly one episode with fresh beliefs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from staghunt_env import BatchedStagHunt

from ..batched_play import decide
from .rollout import seat_owner

if TYPE_CHECKING:
    from .train import Trainer

EVAL_SEED = 12345


def evaluate_selfplay(trainer: Trainer, episodes: int, seed: int = EVAL_SEED) -> list[float]:
    """Mean reward per agent in each of ``episodes`` self-play episodes (the same layouts every call)."""
    config = trainer.env_config
    n = config.num_players
    games = BatchedStagHunt(episodes, seed=seed, config=config)
    obs, mask = games.reset()
    owners = trainer.owners
    players = [
        [owners[seat_owner(owners, i)].follower(seed + g * n + i) for i in range(n)]
        for g in range(episodes)
    ]
    for game in players:
        for i, agent in enumerate(game):
            agent.reset(f"hunter_{i}")
    done = np.zeros(episodes, dtype=bool)
    returns = np.zeros((episodes, n))
    while not done.all():
        joint, _ = decide(games, players, obs, mask, skip=done)
        obs, mask, rewards, _, _ = games.step(joint)
        returns += np.where(done[:, None], 0.0, rewards)
        done |= games.episode_ended
    return returns.mean(axis=1).tolist()
