"""The self-play loop (SPEC section 2), top to bottom.

Each iteration: play (many games at once, every seat a HOP agent) until the batch is full;
train each network owner's policy-value net on its (observation, pi_MCTS, z) samples; pool
the co-players' goal-labelled steps and train the opponent models whose buffer is full; log;
checkpoint every K iterations and at exit.
"""

from __future__ import annotations

import dataclasses
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from staghunt_env import StagHuntConfig

from .. import threads
from ..atomic import atomic_write_text, csv_text, gifs_available
from ..devices import resolve_device
from ..planner.learning import opponent_accuracy
from ..progress import Progress
from ..ray_cluster import connect_ray
from ..run_folders import Claim, NothingToResumeError, Place, claim
from ..stats import paired_bootstrap_ci
from . import checkpoint as ckpt
from .config import SelfPlayConfig, to_toml
from .evaluate import evaluate_selfplay
from .learner import RankedRewards, train_policy_value
from .report import write_gif, write_learning_curves
from .rollout import Collected, SelfPlayRollout, make_agents


class Trainer:
    """All the state of a run (:func:`~.checkpoint.trainer_state` is what a checkpoint holds)."""

    def __init__(self, config: SelfPlayConfig) -> None:
        config, _ = with_workers(config)
        self.config = config
        self.env_config = StagHuntConfig.make(**config.env)
        self.device = str(resolve_device(config.device))
        torch.manual_seed(config.seed)
        self.owners, players = make_agents(
            self.env_config,
            config.num_games,
            config.share_networks,
            config.seed,
            self.device,
            config.planner_options(),
        )
        ranked = (
            RankedRewards(config.ranked_percentile, config.ranked_buffer, config.ranked_initial)
            if config.ranked_rewards
            else None
        )
        self.rollout = (
            SelfPlayRollout(
                self.env_config, self.owners, players, config.seed, config.planner.gamma, ranked
            )
            if not config.workers
            else None
        )
        self.workers: list = []
        self._worker_rollouts: list[dict[str, Any]] = []  # restored, for actors not yet started
        n_seats = self.env_config.num_players - 1
        self.opponent_pools: list[list[list[tuple]]] = [
            [[] for _ in range(n_seats)] for _ in self.owners
        ]
        self.iteration = 0
        self.metrics: list[dict[str, Any]] = []
        self.evaluations: dict[str, list[float]] = {}

    def step(self, phase: Callable[[str], None] = lambda name: None) -> dict[str, Any]:
        """One iteration: play, learn, return its metrics row (``phase(name)`` is told which)."""
        config = self.config
        phase("collecting")
        if config.workers:
            if not self.workers:
                from .workers import start_workers

                self.workers = start_workers(
                    config, config.seed + self.iteration, self._worker_rollouts
                )
            from .workers import collect_on_workers

            collected, steps = collect_on_workers(
                self.workers, self.owners, config.steps_per_iteration
            )
        else:
            collected = self.rollout.collect(config.steps_per_iteration)
            steps = self.rollout.drain_opponent_steps()
        phase("learning")
        t0 = time.perf_counter()
        learn = [self._train_owner(o, collected) for o in range(len(self.owners))]
        t1 = time.perf_counter()
        opponent = self._train_opponents(steps)
        t2 = time.perf_counter()
        self.iteration += 1
        row = {"iteration": self.iteration, **_episode_metrics(collected, self.env_config)}
        row.update(_mean_dicts(learn))
        row.update(opponent)
        row.update(
            {
                "env_steps": collected.env_steps,
                "agent_steps": collected.agent_steps,
                "env_steps_per_s": collected.env_steps / collected.seconds,
                "simulations_per_s": collected.simulations / collected.seconds,
                "time_search_s": collected.seconds,
                "time_learn_s": t1 - t0,
                "time_opponent_s": t2 - t1,
            }
        )
        self.metrics.append(row)
        return row

    def rollout_states(self) -> list[dict[str, Any]]:
        """The games in flight: this process's rollout, or each Ray actor's (what a checkpoint
        keeps so that a resumed run plays on exactly as an unbroken one)."""
        if self.rollout is not None:
            return [ckpt.rollout_state(self.rollout)]
        if not self.workers:
            return self._worker_rollouts
        from .workers import worker_states

        return worker_states(self.workers)

    def restore_rollouts(self, states: list[dict[str, Any]]) -> None:
        """Restore :meth:`rollout_states`; with another number of Ray actors than saved (or
        after a switch between Ray and in-process), the games start afresh."""
        if self.rollout is not None:
            if len(states) == 1:
                ckpt.restore_rollout(self.rollout, states[0])
        elif len(states) == self.config.workers:
            self._worker_rollouts = states

    def _train_owner(self, index: int, collected: Collected) -> dict[str, float]:
        samples = collected.samples[index]
        if not samples:
            return {}
        batch = {k: np.concatenate([s[k] for s in samples]) for k in samples[0]}
        return train_policy_value(
            self.owners[index], batch, self.config.sgd_iterations, self.config.minibatch
        )

    def _train_opponents(self, steps: list[list[list[tuple]]]) -> dict[str, float]:
        """Pool the co-players' labelled steps; train each full pool, measured before training."""
        accuracy, uniform, losses = [], [], []
        for o, owner in enumerate(self.owners):
            if not owner.learns_opponents:
                continue  # nothing to train: keep no pools
            for k, pool in enumerate(self.opponent_pools[o]):
                pool.extend(steps[o][k])
                if len(pool) < self.config.planner.opponent_buffer_size:
                    continue
                model, guess = opponent_accuracy(owner.networks, k, pool)
                accuracy.append(model)
                uniform.append(guess)
                losses.append(owner.train_opponent(k, pool))
                self.opponent_pools[o][k] = []
        if not accuracy:
            return {}
        return {
            "opponent_accuracy": float(np.mean(accuracy)),
            "opponent_uniform_accuracy": float(np.mean(uniform)),
            "opponent_loss": float(np.mean(losses)),
        }


def _episode_metrics(collected: Collected, env_config: StagHuntConfig) -> dict[str, Any]:
    episodes = collected.episodes
    if not episodes:
        return {"episodes": 0}
    returns = np.stack([e.returns for e in episodes])
    caught = np.stack([e.caught for e in episodes])
    right = sum(e.belief_right for e in episodes)
    total = sum(e.belief_total for e in episodes)
    row: dict[str, Any] = {
        "episodes": len(episodes),
        "reward_mean": float(returns.mean()),
        "stag_rate": float((caught == 0).mean()),
        "hare_rate": float((caught == 1).mean()),
        "episode_length": float(np.mean([e.length for e in episodes])),
        "belief_accuracy": right / total if total else float("nan"),
    }
    for i in range(env_config.num_players):
        row[f"reward_hunter_{i}"] = float(returns[:, i].mean())
    return row


def _mean_dicts(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = sorted({k for r in rows for k in r})
    return {k: float(np.mean([r[k] for r in rows if k in r])) for k in keys}


# What a run writes in its folder (a new run never mixes these with an older run's).
OUTPUTS = (
    *("config.toml", "metrics.csv", "evaluation.json", "learning_curves.png", "episode_*.gif"),
    *("checkpoints", "tensorboard"),
)


def train(
    config: SelfPlayConfig,
    resume: bool = False,
    overwrite: bool = False,
    fresh_folder: bool = False,
) -> Trainer:
    """Run (or resume) self-play in ``runs/<name>/``, a folder this run owns; returns the trainer.

    The folder is claimed first (:func:`tom_agents.run_folders.claim`): locked while the run
    goes on, refused when another run uses it or it holds an earlier run, unless ``resume``
    (continue from its newest good checkpoint; with none, a RunError names each checkpoint's
    fault) or ``overwrite`` (its old outputs are removed; with ``resume``, only when nothing can
    be resumed). ``fresh_folder``: an earlier run's folder moves this one to ``<name>_2``, ...
    More Ray workers than the cluster can place are refused before any of this; ``workers``
    left unset is decided here (:func:`with_workers`) and said.
    """
    config, why = with_workers(config)
    if why:
        where = f"on {config.workers} Ray actors" if config.workers else "in this process"
        print(f"self-play {where}: {why} (--workers N to choose)")
    if config.workers:
        connect_ray(config.workers, config.ray_address)
    gifs = gifs_available()
    if not gifs:  # said now, not after the training
        warnings.warn(
            "imageio is not installed: this run writes no episode GIFs "
            "(pip install 'staghunt-tom[agents]')",
            stacklevel=2,
        )
    config = dataclasses.replace(
        config, **threads.configure(config.torch_threads, config.numba_threads)
    )
    place = Place.run_folder(config.run_dir, OUTPUTS)
    with claim(place, resume=resume, overwrite=overwrite, fresh=fresh_folder) as held:
        if held.path != config.run_dir:
            config = dataclasses.replace(
                config, name=held.path.relative_to(config.out_dir).as_posix()
            )
        with Progress(config.name, config.iterations, "iteration", config.progress) as bar:
            bar.phase("compiling")  # the rules' kernels, as the games are set up
            trainer = _start(config, held, resume, overwrite)
            bar.start_at(trainer.iteration)
            return _run(config, trainer, bar, gifs)


def with_workers(config: SelfPlayConfig) -> tuple[SelfPlayConfig, str]:
    """``config`` with ``workers`` decided (:func:`tom_agents.threads.auto_workers`) when it is
    unset, and why ("" when it was set)."""
    if config.workers is not None:
        return config, ""
    on_cpu = resolve_device(config.device).type == "cpu"
    workers, why = threads.auto_workers(config.num_games, on_cpu)
    return dataclasses.replace(config, workers=workers), why


def _start(config: SelfPlayConfig, held: Claim, resume: bool, overwrite: bool) -> Trainer:
    """A new trainer, or one restored from the run's newest good checkpoint."""
    ckpt.remove_partial_writes(held.path)
    if resume:
        try:
            path, state = ckpt.latest_good_checkpoint(held.path, config.to_dict())
        except NothingToResumeError:
            if not overwrite:
                raise
            held.clear()  # asked to start over when there is nothing to resume
        else:  # iterations, device, progress, ... may change on resume
            trainer = Trainer(config)
            ckpt.restore_trainer(trainer, state)
            print(f"resumed from {path} (iteration {trainer.iteration})")
            return trainer
    return Trainer(config)


def _run(config: SelfPlayConfig, trainer: Trainer, bar: Progress, gifs: bool) -> Trainer:
    run_dir = config.run_dir
    atomic_write_text(run_dir / "config.toml", to_toml(config))
    logger = _Logger(run_dir, trainer)
    if config.eval_episodes and "untrained" not in trainer.evaluations:
        bar.phase("evaluating (untrained)")
        trainer.evaluations["untrained"] = evaluate_selfplay(
            trainer.env_config, trainer.owners, config.eval_episodes
        )
    try:
        while trainer.iteration < config.iterations:
            row = trainer.step(bar.phase)
            logger.write(row)
            bar.advance(1, **_shown_metrics(trainer.metrics))
            if trainer.iteration % config.checkpoint_every == 0:
                bar.phase("writing a checkpoint")
                ckpt.save_checkpoint(run_dir, trainer, config.keep_checkpoints)
            if gifs and config.gif_every and trainer.iteration % config.gif_every == 0:
                bar.phase("writing a GIF")
                write_gif(
                    trainer.env_config,
                    trainer.owners,
                    run_dir / f"episode_{trainer.iteration:06d}.gif",
                )
    finally:
        logger.close()
        ckpt.save_checkpoint(run_dir, trainer, config.keep_checkpoints)
    if config.eval_episodes:
        bar.phase("evaluating (trained)")
        trainer.evaluations["trained"] = evaluate_selfplay(
            trainer.env_config, trainer.owners, config.eval_episodes
        )
        _write_evaluation(trainer.evaluations, run_dir / "evaluation.json")
    bar.phase("writing outputs")
    write_learning_curves(trainer.metrics, trainer.evaluations, run_dir)
    if gifs:
        write_gif(trainer.env_config, trainer.owners, run_dir / "episode_latest.gif")
    bar.phase("done")
    return trainer


def _shown_metrics(metrics: list[dict[str, Any]]) -> dict[str, str]:
    """The bar's numbers: env steps/s of the last iteration, the latest mean reward (an
    iteration in which no game ended has none: the one before stands)."""
    shown = {"steps/s": f"{metrics[-1]['env_steps_per_s']:.0f}"}
    rewards = [m["reward_mean"] for m in metrics if "reward_mean" in m]
    if rewards:
        shown["reward"] = f"{rewards[-1]:.2f}"
    return shown


def _write_evaluation(evaluations: dict[str, list[float]], path: Path) -> None:
    """Mean reward per agent before and after training on the same seeds, with a 95% CI."""
    summary: dict[str, Any] = {k: float(np.mean(v)) for k, v in evaluations.items()}
    summary["episodes"] = len(evaluations["trained"])
    if "untrained" in evaluations:
        mean, lo, hi = paired_bootstrap_ci(evaluations["untrained"], evaluations["trained"])
        summary["difference"] = {"mean": mean, "ci95": [lo, hi]}
    atomic_write_text(path, json.dumps(summary, indent=2) + "\n")


class _Logger:
    """metrics.csv (rewritten from the trainer's rows, so a resumed run matches an unbroken one)
    and TensorBoard events (purged past the resumed iteration)."""

    def __init__(self, run_dir: Path, trainer: Trainer) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.path = run_dir / "metrics.csv"
        self.rows = list(trainer.metrics)
        self.writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=trainer.iteration + 1)
        self._rewrite()

    def write(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self._rewrite()
        for key, value in row.items():
            if key != "iteration" and isinstance(value, (int, float)):
                self.writer.add_scalar(key, value, row["iteration"])
        self.writer.flush()

    def _rewrite(self) -> None:
        fields = sorted({k for r in self.rows for k in r}, key=lambda k: (k != "iteration", k))
        atomic_write_text(self.path, csv_text(self.rows, fields))

    def close(self) -> None:
        self.writer.close()
