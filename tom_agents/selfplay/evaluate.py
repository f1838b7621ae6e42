"""Evaluation on fixed seeds: every game plays exactly one episode with fresh beliefs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from staghunt_env import BatchedStagHunt, StagHuntConfig

from ..planner import PlannerAgent
from ..runner import Episode, Runner
from .rollout import seat_owner

EVAL_SEED = 12345


def evaluate_selfplay(
    env_config: StagHuntConfig,
    owners: Sequence[PlannerAgent],
    episodes: int,
    seed: int = EVAL_SEED,
) -> list[float]:
    """Mean reward per agent in each of ``episodes`` self-play episodes of the owners' networks
    (the same layouts every call)."""
    n = env_config.num_players
    games = BatchedStagHunt(episodes, seed=seed, config=env_config)
    games.reset()
    players = [
        [owners[seat_owner(owners, i)].follower(seed + g * n + i) for i in range(n)]
        for g in range(episodes)
    ]
    returns = np.zeros((episodes, n))

    def record(episode: Episode) -> None:
        returns[episode.game] = episode.returns

    Runner(games, players, one_episode=True).run(record)
    return returns.mean(axis=1).tolist()
