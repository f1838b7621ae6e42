"""Self-play checkpoints: the whole state of a run as data (:mod:`tom_agents.checkpoints`), written
atomically, the newest good one found on resume.

A checkpoint holds the run's configuration, counters, metrics and evaluations, torch's RNG
state, every network owner (weights, optimisers, RNG) and the games in flight with every
player's seat (beliefs, perception, records), this process's or each Ray actor's, so that a
resumed run continues exactly as an unbroken one would (with Ray, when it resumes with as many
actors; another count starts fresh games).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from staghunt_env import GameState

from .. import checkpoints
from ..checkpoints import CheckpointError
from ..planner.seat import columns_of, rows_of
from ..run_folders import NothingToResumeError

if TYPE_CHECKING:
    from .train import Trainer

KIND = checkpoints.SELFPLAY
PATTERN = "checkpoint_{:06d}.safetensors"
GLOB = "checkpoint_*.safetensors"

# Settings a resumed run may change without changing what was trained so far.
_RESUMABLE_CHANGES = {
    "iterations",
    "progress",
    "device",
    "workers",
    "ray_address",
    "out_dir",
    "torch_threads",
    "numba_threads",
}

__all__ = ["CheckpointError", "latest_good_checkpoint", "read_checkpoint", "save_checkpoint"]


def trainer_state(trainer: Trainer) -> dict[str, Any]:
    """Everything a run holds, as tensors and plain data."""
    return {
        "config": trainer.config.to_dict(),
        "iteration": trainer.iteration,
        "metrics": trainer.metrics,
        "evaluations": trainer.evaluations,
        "torch_rng": torch.get_rng_state(),
        "owners": [_agent_state(o) | {"networks": o.networks.state_dict()} for o in trainer.owners],
        "opponent_pools": [columns_of(pools) for pools in trainer.opponent_pools],
        "rollouts": trainer.rollout_states(),
    }


def rollout_state(rollout) -> dict[str, Any]:
    """The games in flight of one rollout (this process's or a Ray actor's), and its players."""
    snapshot = rollout.games.get_state()
    runner = rollout.runner
    return {
        "games": {
            "game": snapshot["game"].arrays(),
            "returns": snapshot["returns"],
            "rng": snapshot["rng"],
        },
        "runner": {
            "caught": runner.caught,
            "catch_step": runner.catch_step,
            "length": runner.length,
        },
        "players": [[_agent_state(p) for p in game] for game in rollout.players],
        "ranked": None if rollout.ranked is None else list(rollout.ranked.buffer),
    }


def restore_trainer(trainer: Trainer, state: dict[str, Any]) -> None:
    """Put a state from :func:`trainer_state` into a trainer built from the same configuration."""
    trainer.iteration = int(state["iteration"])
    trainer.metrics = list(state["metrics"])
    trainer.evaluations = dict(state["evaluations"])
    torch.set_rng_state(state["torch_rng"])
    for owner, saved in zip(trainer.owners, state["owners"], strict=True):
        owner.networks.load_state_dict(saved["networks"])
        _restore_agent(owner, saved)
    trainer.opponent_pools = [rows_of(pools) for pools in state["opponent_pools"]]
    trainer.restore_rollouts(state["rollouts"])


def restore_rollout(rollout, saved: dict[str, Any]) -> None:
    """Put a state from :func:`rollout_state` into a rollout of the same games and players."""
    games = saved["games"]
    rollout.games.set_state(
        {
            "config": rollout.games.config.to_dict(),
            "game": GameState(**{k: np.asarray(v) for k, v in games["game"].items()}),
            "returns": games["returns"],
            "rng": games["rng"],
        }
    )
    runner = rollout.runner
    for name, value in saved["runner"].items():
        getattr(runner, name)[...] = value
    runner.obs, runner.mask = rollout.games.observe()
    for game, states in zip(rollout.players, saved["players"], strict=True):
        for agent, agent_state in zip(game, states, strict=True):
            _restore_agent(agent, agent_state)
    if rollout.ranked is not None:
        rollout.ranked.buffer.clear()
        rollout.ranked.buffer.extend(saved["ranked"])


def _agent_state(agent) -> dict[str, Any]:
    return {
        "rng": agent.rng.bit_generator.state,
        "seat": agent.seat.state_dict(),
        "opponent_losses": agent.opponent_losses,
    }


def _restore_agent(agent, state: dict[str, Any]) -> None:
    agent.rng.bit_generator.state = state["rng"]
    agent.seat.load_state_dict(state["seat"])
    agent.opponent_losses = list(state["opponent_losses"])


def save_checkpoint(run_dir: Path, trainer: Trainer, keep: int) -> Path:
    """Write the trainer's state atomically; keep the newest ``keep`` checkpoints."""
    path = run_dir / "checkpoints" / PATTERN.format(trainer.iteration)
    checkpoints.save(path, KIND, trainer_state(trainer))
    for old in list_checkpoints(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def remove_partial_writes(run_dir: Path) -> None:
    """Delete the temporary files of writes that a kill interrupted (never a finished checkpoint)."""
    for tmp in (run_dir / "checkpoints").glob("*.tmp"):
        tmp.unlink(missing_ok=True)


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoints of a run, oldest first."""
    return sorted((run_dir / "checkpoints").glob(GLOB))


def read_checkpoint(path: Path, expected_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load one checkpoint, or raise CheckpointError saying what is wrong with it.

    ``expected_config``: the configuration of the run resuming from it (None: any run's).
    """
    _, state = checkpoints.load(path, KIND)
    if expected_config is not None:
        theirs = state.get("config", {})
        differ = sorted(
            k
            for k in set(expected_config) | set(theirs)
            if k not in _RESUMABLE_CHANGES and expected_config.get(k) != theirs.get(k)
        )
        if differ:
            raise CheckpointError(
                path, f"it comes from a run with another configuration ({differ})"
            )
    return state


def latest_good_checkpoint(run_dir: Path, expected_config: dict[str, Any]) -> tuple[Path, dict]:
    """(path, state) of the newest checkpoint that loads; newer bad ones are warned of by name.

    With none to resume, :class:`~tom_agents.run_folders.NothingToResumeError` names each file
    and its fault.
    """
    faults = []
    for path in reversed(list_checkpoints(run_dir)):
        try:
            state = read_checkpoint(path, expected_config)
        except CheckpointError as e:
            faults.append(e)
            continue
        for fault in faults:
            warnings.warn(f"skipping checkpoint: {fault}", stacklevel=2)
        return path, state
    reasons = [f"{e.path.name}: {e.reason}" for e in faults]
    raise NothingToResumeError(run_dir, reasons or [f"no {GLOB} in {run_dir / 'checkpoints'}"])
