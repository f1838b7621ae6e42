"""What a person looks at after a run: learning curves (PNG) and a recent episode (GIF)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from staghunt_env import StagHuntConfig

from ..atomic import atomic_write_figure, atomic_write_gif
from ..planner import PlannerAgent
from ..runner import play_recorded
from ..stats import paired_bootstrap_ci
from .rollout import seat_owner

CURVES = (
    ("reward_mean", "mean reward per agent"),
    ("pv_loss", "policy-value loss (last SGD pass)"),
    ("opponent_accuracy", "opponent-model accuracy"),
    ("belief_accuracy", "belief accuracy"),
    ("stag_rate", "stag catch rate"),
    ("env_steps_per_s", "env steps / s"),
)


def write_learning_curves(
    metrics: list[dict[str, Any]], evaluations: dict[str, list[float]], run_dir: Path
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    x = [m["iteration"] for m in metrics]
    for ax, (key, title) in zip(axes.flat, CURVES):
        y = [m.get(key, np.nan) for m in metrics]
        ax.plot(x, y, marker="o", ms=3)
        if key == "pv_loss":  # each iteration's SGD: the loss of its first pass, then its last
            ax.plot(x, [m.get("pv_loss_first", np.nan) for m in metrics], "--", label="first pass")
            ax.legend()
        if key == "opponent_accuracy":
            ax.plot(
                x,
                [m.get("opponent_uniform_accuracy", np.nan) for m in metrics],
                "--",
                label="uniform guess",
            )
            ax.legend()
        ax.set_title(title)
        ax.set_xlabel("iteration")
    if "untrained" in evaluations and "trained" in evaluations:
        mean, lo, hi = paired_bootstrap_ci(evaluations["untrained"], evaluations["trained"])
        fig.suptitle(
            f"evaluation reward: untrained {np.mean(evaluations['untrained']):.3f}, trained "
            f"{np.mean(evaluations['trained']):.3f} (difference {mean:+.3f}, 95% CI [{lo:+.3f}, {hi:+.3f}])"
        )
    fig.tight_layout()
    try:
        return atomic_write_figure(run_dir / "learning_curves.png", fig)
    finally:
        plt.close(fig)


def write_gif(
    env_config: StagHuntConfig, owners: Sequence[PlannerAgent], path: Path, seed: int = 0
) -> Path:
    """One self-play episode of the owners' current networks, rendered."""
    n = env_config.num_players
    agents = [owners[seat_owner(owners, i)].follower(seed + i) for i in range(n)]
    frames, _ = play_recorded(env_config, agents, seed=seed)
    return atomic_write_gif(path, frames)
