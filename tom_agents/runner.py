"""One batched loop of agents over many games: self-play, evaluation, the arena and the demo use it.

Every step decides all live agents at once (agents whose class offers a static
``act_batch(agents, observations, infos)``, the planners and PPO, are decided together, one call
per such class; any other agent acts one by one through the plain Agent protocol), steps the
:class:`~staghunt_env.BatchedStagHunt`, and records what the rules report: rewards and who
caught what. When a game's episode ends, every agent of that game is told its outcome
(``end_episode(outcome)``: agent name -> Catch code), and the finished :class:`Episode` is
handed to the caller before the agents start the next episode.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from staghunt_env import BatchedStagHunt, GameState, render, rules
from staghunt_env.spec import CAUGHT_NOTHING, STAY, Catch, agent_name

from .registry import Agent
from .replays import Replay


@dataclasses.dataclass
class Episode:
    """One finished episode of one game."""

    game: int
    returns: np.ndarray  # (N,) each hunter's return
    caught: np.ndarray  # (N,) Catch codes: what each hunter caught (NOTHING: nothing)
    catch_step: np.ndarray  # (N,) the step of the catch, counted from 1 (-1: none)
    length: int  # steps played

    @property
    def outcome(self) -> dict[str, Catch]:
        """What each agent is told at the end: agent name -> what it caught."""
        return {agent_name(i): Catch(int(c)) for i, c in enumerate(self.caught)}


def act_all(
    agents: Sequence[Agent],
    observations: Sequence[Mapping[str, Any]],
    infos: Sequence[Mapping[str, Any]],
) -> list[int]:
    """Every agent's action; agents with a common ``act_batch`` are decided in one call."""
    actions: list[int] = [0] * len(agents)
    groups: dict[Any, list[int]] = {}
    for i, agent in enumerate(agents):
        batch = getattr(type(agent), "act_batch", None)
        if batch is None:
            actions[i] = int(agent.act(observations[i], infos[i]))
        else:
            groups.setdefault(batch, []).append(i)
    for batch, members in groups.items():
        chosen = batch(
            [agents[i] for i in members],
            [observations[i] for i in members],
            [infos[i] for i in members],
        )
        for i, action in zip(members, chosen):
            actions[i] = int(action)
    return actions


class Runner:
    """Agents playing the games of a :class:`~staghunt_env.BatchedStagHunt`.

    ``players[g][i]`` plays hunter i of game g. With ``one_episode=True`` each game plays one
    episode and then stops (evaluation, the arena); otherwise games go on episode after episode
    (self-play). ``record_game`` keeps a replay of that game's first episode (``self.replay``).
    """

    def __init__(
        self,
        games: BatchedStagHunt,
        players: Sequence[Sequence[Agent]],
        one_episode: bool = False,
        record_game: int | None = None,
    ) -> None:
        if len(players) != games.num_envs:
            raise ValueError(f"{len(players)} lineups of players for {games.num_envs} games")
        self.games = games
        self.players = players
        self.one_episode = one_episode
        n = games.config.num_players
        self.done = np.zeros(games.num_envs, dtype=bool)
        self.caught = np.full((games.num_envs, n), CAUGHT_NOTHING, dtype=np.int64)
        self.catch_step = np.full((games.num_envs, n), -1, dtype=np.int64)
        self.length = np.zeros(games.num_envs, dtype=np.int64)
        self.obs, self.mask = games.observe()
        self.replay = Replay()
        self._record_game = record_game
        self._replay: GameState | None = None
        if record_game is not None:
            self._replay = games.select([record_game])
            self.replay.add(render.rgb_array(self._replay), np.zeros(n))
        for g in range(games.num_envs):
            self._start(g)

    def _start(self, g: int) -> None:
        for i, agent in enumerate(self.players[g]):
            agent.reset(agent_name(i))
        self.caught[g] = CAUGHT_NOTHING
        self.catch_step[g] = -1
        self.length[g] = 0

    def step(self, on_episode_end: Callable[[Episode], None] | None = None) -> np.ndarray:
        """One joint step of every game still playing; returns the (game, seat) pairs that acted.

        ``on_episode_end(episode)`` runs for each game whose episode ended, after its agents were
        told the outcome and before they start the next one.
        """
        state = self.games.state
        acting = state.alive & ~state.over[:, None] & ~self.done[:, None]
        live = np.argwhere(acting)
        actions = act_all(
            [self.players[g][i] for g, i in live],
            [{"observation": self.obs[g, i], "action_mask": self.mask[g, i]} for g, i in live],
            [{"t": int(state.t[g])} for g, _ in live],
        )
        joint = np.full(state.alive.shape, STAY, dtype=np.int64)
        joint[live[:, 0], live[:, 1]] = actions
        if self._replay is not None and not self.done[self._record_game]:
            g = self._record_game
            self._replay, rewards = rules.step(self.games.config, self._replay, joint[g : g + 1])[
                :2
            ]
            self.replay.add(render.rgb_array(self._replay), rewards[0])
        self.obs, self.mask, _, _, _ = self.games.step(joint)
        playing = ~self.done
        self.length[playing] += 1
        new = (self.games.caught != CAUGHT_NOTHING) & playing[:, None]
        self.caught[new] = self.games.caught[new]
        self.catch_step[new] = np.broadcast_to(self.length[:, None], new.shape)[new]
        for g in np.flatnonzero(self.games.episode_ended & playing):
            self._finish(g, on_episode_end)
        return live

    def _finish(self, g: int, on_episode_end: Callable[[Episode], None] | None) -> None:
        episode = Episode(
            game=int(g),
            returns=self.games.final_returns[g].copy(),
            caught=self.caught[g].copy(),
            catch_step=self.catch_step[g].copy(),
            length=int(self.length[g]),
        )
        outcome = episode.outcome
        for agent in self.players[g]:
            agent.end_episode(outcome)
        if on_episode_end is not None:
            on_episode_end(episode)
        if self.one_episode:
            self.done[g] = True
            if g == self._record_game:
                self._replay = None
        else:
            self._start(g)

    def run(self, on_episode_end: Callable[[Episode], None] | None = None) -> None:
        """Play until every game has finished its episode (``one_episode`` runners only)."""
        if not self.one_episode:
            raise ValueError(
                "run() plays one episode per game: make the runner with one_episode=True"
            )
        while not self.done.all():
            self.step(on_episode_end)


def play_recorded(config: Any, agents: Sequence[Agent], seed: int = 0) -> tuple[Replay, Episode]:
    """One rendered episode of ``agents`` (one per seat) on a game laid out from ``seed``:
    (its replay, the episode). For demos and GIFs."""
    games = BatchedStagHunt(1, seed=seed, config=config)
    games.reset()
    runner = Runner(games, [list(agents)], one_episode=True, record_game=0)
    episodes: list[Episode] = []
    runner.run(episodes.append)
    return runner.replay, episodes[0]


def note_catches(outcome: dict[str, Catch], infos: Mapping[str, Mapping[str, Any]]) -> None:
    """Add what a PettingZoo step's ``infos`` report caught to ``outcome`` (agent -> Catch).

    In a hand-written env loop, call it after every ``env.step`` and pass ``outcome`` to each
    agent's ``end_episode`` when the episode is over.
    """
    for agent, info in infos.items():
        if info["caught"] != Catch.NOTHING:
            outcome[agent] = Catch(info["caught"])
