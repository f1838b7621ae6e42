"""Matches: a lineup plays K consecutive episodes with the same agents, many matches at once.

Episode k of the match with seed s is laid out from ``default_rng([s, k])``, whatever the
lineup, so lineups played on the same seeds meet the same layouts (paired comparisons). All
matches play episode k together in one :class:`~staghunt_env.BatchedStagHunt`, and every step
decides all live agents at once (:class:`~tom_agents.runner.Runner`: one search for all
planners, one forward per PPO model).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from staghunt_env import BatchedStagHunt, GameState, StagHuntConfig, rules
from staghunt_env.spec import CAUGHT_NOTHING, Catch, agent_index

from .. import threads
from ..devices import check_device, resolve_device
from ..progress import Progress
from ..ray_cluster import connect_ray
from ..replays import Replay
from ..runner import Episode, Runner
from ..seat_specs import agent_source, lineup_config
from ..value_types import check_value


@dataclasses.dataclass
class ArenaResult:
    """Everything a run of matches recorded, as arrays over (match, episode, seat[, co-player seat]).

    ``caught``: STAG 0, HARE 1, NOTHING -1; ``catch_step``: the step of the catch (1-based, -1
    for none); ``prior``/``belief``: P(stag) a planner planned with about each co-player at the
    start of the episode and at its last decision (a likely wanderer is no stag hunter; NaN
    where an agent holds no belief).
    """

    lineup: list[str]
    seeds: list[int]
    config: StagHuntConfig
    rewards: np.ndarray  # (M, K, N)
    caught: np.ndarray  # (M, K, N)
    catch_step: np.ndarray  # (M, K, N)
    prior: np.ndarray  # (M, K, N, N)
    belief: np.ndarray  # (M, K, N, N)
    seconds: float
    replays: list[Replay] = dataclasses.field(default_factory=list)  # match 0's episodes

    @property
    def episodes(self) -> int:
        return self.rewards.shape[1]

    def rows(self) -> list[dict[str, Any]]:
        """One row per (match, episode, seat): the CSV's rows (episodes counted from 1)."""
        n = self.config.num_players
        rows = []
        for m, seed in enumerate(self.seeds):
            for k in range(self.episodes):
                for i, spec in enumerate(self.lineup):
                    row = {
                        "match": m,
                        "seed": seed,
                        "episode": k + 1,
                        "seat": i,
                        "agent": spec,
                        "reward": float(self.rewards[m, k, i]),
                        "caught": Catch(int(self.caught[m, k, i])).name.lower(),
                        "catch_step": int(self.catch_step[m, k, i]),
                    }
                    for j in range(n):
                        row[f"prior_stag_hunter_{j}"] = _blank_nan(self.prior[m, k, i, j])
                        row[f"belief_stag_hunter_{j}"] = _blank_nan(self.belief[m, k, i, j])
                    rows.append(row)
        return rows

    def seats_of(self, spec: str) -> list[int]:
        return [i for i, s in enumerate(self.lineup) if s == spec]

    @classmethod
    def merge(cls, parts: Sequence[ArenaResult], seconds: float) -> ArenaResult:
        """Results of the same lineup on different seeds as one (``seconds``: their wall time)."""
        arrays = ("rewards", "caught", "catch_step", "prior", "belief")
        return cls(
            lineup=parts[0].lineup,
            seeds=[s for p in parts for s in p.seeds],
            config=parts[0].config,
            **{a: np.concatenate([getattr(p, a) for p in parts]) for a in arrays},
            seconds=seconds,
            replays=parts[0].replays,
        )


def _blank_nan(x: float) -> float | str:
    return "" if np.isnan(x) else float(x)


def play(
    lineup: Sequence[str],
    episodes: int,
    seeds: Sequence[int],
    env_config: StagHuntConfig | Mapping[str, Any] | None = None,
    planner_options: Mapping[str, Any] | None = None,
    device: str = "auto",
    workers: int = 0,
    record_frames: bool = False,
    progress: bool = True,
    network_seed: int = 0,
) -> ArenaResult:
    """Play one match of ``episodes`` consecutive episodes per seed; the agents persist within a match.

    ``lineup``: one agent spec per seat: a registered name (``"hop"``, ``"nearest_stag"``, ...),
    ``"ppo:PATH"`` or ``"checkpoint:PATH"`` (a planner or self-play checkpoint).
    ``env_config``: defaults to the checkpoints' configuration, else the default game with
    ``len(lineup)`` hunters. ``planner_options`` change every planner's search (e.g.
    ``{"num_simulations": 50}``). ``workers > 0`` splits the seeds over that many Ray tasks.
    ``record_frames`` keeps replays of the first match's episodes (for GIFs).
    """
    lineup, seeds = list(lineup), list(seeds)
    if not lineup or not all(isinstance(s, str) and s for s in lineup):
        raise ValueError(f"lineup must be a non-empty list of agent specs, got {lineup!r}")
    if not _is_count(episodes, minimum=1):
        raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
    if not seeds:
        raise ValueError("seeds must name at least one match")
    if not all(_is_count(s, minimum=0) for s in seeds):
        raise ValueError(f"seeds must be non-negative integers, got {seeds!r}")
    seeds = [int(s) for s in seeds]
    if len(set(seeds)) != len(seeds):
        raise ValueError("seeds must be distinct: each seed is one match")
    if not _is_count(workers, minimum=0):
        raise ValueError(f"workers must be a non-negative integer, got {workers!r}")
    if not _is_count(network_seed, minimum=0):
        raise ValueError(f"network_seed must be a non-negative integer, got {network_seed!r}")
    for name, flag in (("record_frames", record_frames), ("progress", progress)):
        check_value(name, flag, bool, "play")
    check_device(device)
    config = lineup_config(lineup, env_config)
    shared = {"lineup": lineup, "episodes": episodes, "env_config": config}
    shared.update(planner_options=planner_options, device=device, network_seed=network_seed)
    with Progress("arena", len(seeds) * episodes, "episode", progress) as bar:
        if workers:
            return _play_on_ray(seeds, workers, record_frames, shared, bar)
        return _play_here(seeds, record_frames, bar, **shared)


def _play_here(
    seeds: list[int], record_frames: bool, bar: Progress | None, **shared: Any
) -> ArenaResult:
    """The matches of ``seeds`` in this process (``shared``: the other arguments of :func:`play`)."""
    start = time.perf_counter()
    lineup, config, episodes = shared["lineup"], shared["env_config"], shared["episodes"]
    if bar:
        bar.phase("loading agents")
    sources = {
        spec: agent_source(
            spec, config, shared["device"], shared["planner_options"], shared["network_seed"]
        )
        for spec in dict.fromkeys(lineup)
    }
    players = [
        [sources[spec](i, _agent_seed(s, i)) for i, spec in enumerate(lineup)] for s in seeds
    ]
    parts = []
    for k in range(episodes):
        if bar:
            bar.phase(f"playing episode {k + 1} of {episodes}")
        parts.append(_play_episode(config, players, seeds, k, record_frames, bar))
    arrays = {key: np.stack([p[key] for p in parts], axis=1) for key in parts[0] if key != "replay"}
    return ArenaResult(
        lineup=lineup,
        seeds=seeds,
        config=config,
        **arrays,
        seconds=time.perf_counter() - start,
        replays=[p["replay"] for p in parts] if record_frames else [],
    )


def _is_count(value: Any, minimum: int) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= minimum


def _agent_seed(match_seed: int, seat: int) -> int:
    return int(np.random.SeedSequence([match_seed, seat]).generate_state(1)[0])


def _play_episode(config, players, seeds, k, record_frames, bar) -> dict[str, Any]:
    """Episode k of every match, all games in lockstep until each has ended."""
    b, n = len(seeds), config.num_players
    games = BatchedStagHunt(b, seed=k, config=config)  # its own resets go unused: see assign
    start = [rules.initial_state(config, np.random.default_rng([s, k])) for s in seeds]
    games.assign(np.arange(b), GameState.concatenate(start))
    out = {
        "rewards": np.zeros((b, n)),
        "caught": np.full((b, n), CAUGHT_NOTHING),
        "catch_step": np.full((b, n), -1),
        "prior": np.full((b, n, n), np.nan),
        "belief": np.full((b, n, n), np.nan),
    }

    def record(episode: Episode) -> None:
        g = episode.game
        out["rewards"][g] = episode.returns
        out["caught"][g] = episode.caught
        out["catch_step"][g] = episode.catch_step
        for i, agent in enumerate(players[g]):
            report = getattr(agent, "belief_report", None)
            for other, (prior, belief) in (report() if report else {}).items():
                j = agent_index(other)
                out["prior"][g, i, j], out["belief"][g, i, j] = prior, belief
        if bar:
            bar.advance(1)

    runner = Runner(games, players, one_episode=True, record_game=0 if record_frames else None)
    runner.run(record)
    out["replay"] = runner.replay
    return out


def _play_on_ray(
    seeds: list[int], workers: int, record_frames: bool, shared: dict[str, Any], bar: Progress
) -> ArenaResult:
    """The seeds split over Ray tasks, each playing its matches batched (``shared``: the other
    arguments of :func:`play`), gathered as they finish so that the bar moves.

    There are up to 4 tasks per worker (smaller batches, but progress to show). A local Ray of
    ``workers`` CPUs is started when none is running (and left running for the next call); more
    workers than it has free CPUs are refused. Tasks on a CUDA device ask Ray for a share of a
    GPU: Ray hides the GPUs from tasks that ask for none. Tasks import from the driver's
    ``sys.path``, so ``module:factory`` specs load there too.
    """
    bar.phase(f"starting Ray ({workers} workers)")
    connect_ray(workers, num_cpus=workers)  # refused when Ray cannot run them all at once
    import ray

    start = time.perf_counter()
    gpus = 1 / workers if resolve_device(shared["device"]).type == "cuda" else 0
    task = ray.remote(num_gpus=gpus)(_play_chunk)
    chunks = [c.tolist() for c in np.array_split(np.asarray(seeds), 4 * workers) if len(c)]
    futures = [
        task.remote(sys.path, seeds=c, record_frames=record_frames and i == 0, bar=None, **shared)
        for i, c in enumerate(chunks)
    ]
    order = {f: i for i, f in enumerate(futures)}
    parts: list[ArenaResult] = [None] * len(futures)  # type: ignore[list-item]  (filled below)
    pending = list(futures)
    bar.phase(f"playing on {workers} Ray workers")
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        part = ray.get(done[0])
        parts[order[done[0]]] = part
        bar.advance(len(part.seeds) * part.episodes)
    return ArenaResult.merge(parts, time.perf_counter() - start)


def _play_chunk(driver_path: list[str], **arguments: Any) -> ArenaResult:
    threads.configure(torch_threads=1, numba_threads=1)  # a Ray task holds one CPU
    sys.path[:0] = [p for p in driver_path if p not in sys.path]
    return _play_here(**arguments)
