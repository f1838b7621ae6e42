"""Self-play games: many games at once through the batched engine and the batched planner."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from staghunt_env import BatchedStagHunt, StagHuntConfig

from ..planner import PlannerAgent
from ..runner import Episode, Runner
from .learner import RankedRewards, value_targets


@dataclass
class EpisodeStats:
    """What one finished game tells the metrics."""

    returns: np.ndarray  # (N,)
    caught: np.ndarray  # (N,) 0 stag, 1 hare, -1 nothing
    length: int
    belief_right: float
    belief_total: int


@dataclass
class Collected:
    """One iteration's samples per network owner, and the finished episodes."""

    samples: list[list[dict[str, np.ndarray]]]
    episodes: list[EpisodeStats] = field(default_factory=list)
    env_steps: int = 0
    agent_steps: int = 0
    simulations: int = 0
    seconds: float = 0.0

    @classmethod
    def merge(cls, parts: list[Collected], seconds: float) -> Collected:
        """Several workers' collections as one (``seconds``: the wall time they took together)."""
        return cls(
            samples=[
                [s for p in parts for s in p.samples[o]] for o in range(len(parts[0].samples))
            ],
            episodes=[e for p in parts for e in p.episodes],
            env_steps=sum(p.env_steps for p in parts),
            agent_steps=sum(p.agent_steps for p in parts),
            simulations=sum(p.simulations for p in parts),
            seconds=seconds,
        )


def seat_owner(owners: list[PlannerAgent], seat: int) -> int:
    """Which owner's networks seat ``seat`` plays with: its own, or the one shared network."""
    return 0 if len(owners) == 1 else seat


def make_agents(
    env_config: StagHuntConfig,
    num_games: int,
    share_networks: bool,
    seed: int,
    device: str,
    options: dict,
) -> tuple[list[PlannerAgent], list[list[PlannerAgent]]]:
    """Network owners (one per seat, or one shared) and the agents playing every game's seats."""
    n = env_config.num_players
    owners = [
        PlannerAgent(env_config, seed=seed * 1000 + i, device=device, **options)
        for i in range(1 if share_networks else n)
    ]
    players = [
        [owners[seat_owner(owners, i)].follower(seed * 1000 + 100 + g * n + i) for i in range(n)]
        for g in range(num_games)
    ]
    return owners, players


class SelfPlayRollout:
    """Plays ``num_games`` games at once; every seat of every game is a HOP agent."""

    def __init__(
        self,
        env_config: StagHuntConfig,
        owners: list[PlannerAgent],
        players: list[list[PlannerAgent]],
        seed: int,
        gamma: float,
        ranked: RankedRewards | None = None,
    ) -> None:
        self.config = env_config
        self.owners = owners
        self.players = players
        self.gamma = gamma
        self.ranked = ranked
        self.games = BatchedStagHunt(len(players), seed=seed, config=env_config)
        self.games.reset()
        self.runner = Runner(self.games, players)

    def collect(self, agent_steps: int) -> Collected:
        """Play until at least ``agent_steps`` agent decisions were made."""
        start = time.perf_counter()
        out = Collected(samples=[[] for _ in self.owners])
        budget = [
            [p.options.num_trees * p.options.num_simulations for p in game] for game in self.players
        ]
        while out.agent_steps < agent_steps:
            live = self.runner.step(lambda episode: self._finish(episode, out))
            out.agent_steps += len(live)
            out.env_steps += len(self.players)
            out.simulations += sum(budget[g][i] for g, i in live)
        out.seconds = time.perf_counter() - start
        return out

    def drain_opponent_steps(self) -> list[list[list[tuple]]]:
        """The co-players' goal-labelled steps gathered by the players, per owner and seat; emptied."""
        n_seats = self.config.num_players - 1
        pools: list[list[list[tuple]]] = [[[] for _ in range(n_seats)] for _ in self.owners]
        for game in self.players:
            for i, agent in enumerate(game):
                owner = seat_owner(self.owners, i)
                for k, buffer in enumerate(agent.seat.opponent_buffers):
                    pools[owner][k].extend(buffer)
                    buffer.clear()
        return pools

    def _finish(self, episode: Episode, out: Collected) -> None:
        """A game's episode ended (its agents were told the outcome): its samples and stats."""
        right = total = 0
        for i, agent in enumerate(self.players[episode.game]):
            r, n = agent.belief_hits()
            right, total = right + r, total + n
            final = float(episode.returns[i])
            if self.ranked is not None:
                final = self.ranked.normalise(final, agent.rng)
            history = agent.seat.history
            if history:
                z = value_targets(final, len(history), self.gamma)
                out.samples[seat_owner(self.owners, i)].append(
                    {
                        "grid": np.stack([h["grid"] for h in history]),
                        "t": np.array([h["t"] for h in history], dtype=np.int64),
                        "mask": np.stack([h["mask"] for h in history]),
                        "pi": np.stack([h["pi"] for h in history]).astype(np.float32),
                        "z": z.astype(np.float32),
                    }
                )
        out.episodes.append(
            EpisodeStats(
                returns=episode.returns,
                caught=episode.caught,
                length=episode.length,
                belief_right=right,
                belief_total=total,
            )
        )
