"""Checkpoints that survive a kill: atomic writes, the newest good one found on resume."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch

from ..atomic import atomic_write

FORMAT = "tom_agents.selfplay/1"
PATTERN = "checkpoint_{:06d}.pt"


def save_atomic(payload: dict[str, Any], path: Path) -> None:
    """Write the checkpoint whole or not at all (:func:`~tom_agents.atomic.atomic_write`)."""
    atomic_write(path, lambda f: torch.save({"format": FORMAT, **payload}, f))


def save_checkpoint(run_dir: Path, iteration: int, payload: dict[str, Any], keep: int) -> Path:
    path = run_dir / "checkpoints" / PATTERN.format(iteration)
    save_atomic(payload, path)
    for old in list_checkpoints(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def remove_partial_writes(run_dir: Path) -> None:
    """Delete the temporary files of writes that a kill interrupted (never a finished checkpoint)."""
    for tmp in (run_dir / "checkpoints").glob("*.tmp"):
        tmp.unlink(missing_ok=True)


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoints of a run, oldest first."""
    return sorted((run_dir / "checkpoints").glob("checkpoint_*.pt"))


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: corrupt, foreign, or from another configuration."""


def read_checkpoint(path: Path, expected_config: dict[str, Any]) -> dict[str, Any]:
    """Load one checkpoint, or raise CheckpointError saying what is wrong with it."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # truncated or tampered files fail in many ways inside torch/pickle
        raise CheckpointError(f"{path} is corrupt: {type(e).__name__}: {e}") from e
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a self-play checkpoint")
    theirs = data.get("config", {})
    differ = sorted(
        k
        for k in set(expected_config) | set(theirs)
        if k not in _RESUMABLE_CHANGES and expected_config.get(k) != theirs.get(k)
    )
    if differ:
        raise CheckpointError(f"{path} comes from a run with another configuration ({differ})")
    return data


# Settings a resumed run may change without changing what was trained so far.
_RESUMABLE_CHANGES = {
    "iterations",
    "progress",
    "device",
    "workers",
    "ray_address",
    "out_dir",
    "torch_threads",
}


def latest_good_checkpoint(run_dir: Path, expected_config: dict[str, Any]):
    """The newest checkpoint that loads; bad ones are reported by name and skipped."""
    for path in reversed(list_checkpoints(run_dir)):
        try:
            return path, read_checkpoint(path, expected_config)
        except CheckpointError as e:
            warnings.warn(f"skipping checkpoint: {e}", stacklevel=2)
    return None, None
