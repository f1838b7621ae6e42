"""What a person looks at after a run: learning curves (PNG) and a recent episode (GIF)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from staghunt_env import StagHuntConfig

from ..atomic import atomic_write_figure
from ..planner import PlannerAgent
from ..replays import write_replay
from ..runner import play_recorded
from ..stats import paired_bootstrap_ci
from .rollout import seat_owner

# What a reader asks of a run: does reward rise, what do agents hunt, do the models of the
# co-players get better, does the learning converge, how long do episodes last. (Speed, which
# mostly shows the machine's load, stays in metrics.csv and TensorBoard.)
CURVES = (
    ("reward_mean", "mean reward per agent"),
    ("stag_rate", "catch rates (share of agents)"),
    ("episode_length", "episode length (steps)"),
    ("opponent_accuracy", "opponent-model accuracy"),
    ("belief_accuracy", "goal-belief accuracy"),
    ("pv_loss", "policy-value loss"),
)
# The second line of a panel: key, label, style.
SECOND_LINES = {
    "stag_rate": ("hare_rate", "hare", "-"),
    "pv_loss": ("pv_loss_first", "first SGD pass", "--"),
    "opponent_accuracy": ("opponent_uniform_accuracy", "uniform guess", "--"),
}
FIRST_LABELS = {"stag_rate": "stag", "pv_loss": "last SGD pass", "opponent_accuracy": "model"}
AGENT_NAMES = {"learned": "hop", "goal_free": "direct_om", "uniform": "mcts"}


def write_learning_curves(
    metrics: list[dict[str, Any]], evaluations: dict[str, list[float]], run_dir: Path
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharex=True)
    for ax, (key, title) in zip(axes.flat, CURVES):
        ax.plot(*_series(metrics, key), marker="o", ms=3, label=FIRST_LABELS.get(key))
        if key in SECOND_LINES:
            other, label, style = SECOND_LINES[key]
            ax.plot(*_series(metrics, other), style, marker="o", ms=3, label=label)
            ax.legend(fontsize=8, loc="best", framealpha=0.7)
        ax.set_title(title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes[-1]:
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


def _series(metrics: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    """(iterations, values) where ``key`` was measured (opponent models are measured only when
    a buffer fills, rewards only when a game ended), so that lines join the measured points."""
    points = [(m["iteration"], m[key]) for m in metrics if np.isfinite(m.get(key, np.nan))]
    return [i for i, _ in points], [v for _, v in points]


def write_gif(
    env_config: StagHuntConfig, owners: Sequence[PlannerAgent], path: Path, seed: int = 0
) -> Path:
    """One self-play episode of the owners' current networks, rendered."""
    n = env_config.num_players
    agents = [owners[seat_owner(owners, i)].follower(seed + i) for i in range(n)]
    replay, _ = play_recorded(env_config, agents, seed=seed)
    names = [f"{AGENT_NAMES[a.options.opponent_model]} (trained)" for a in agents]
    return write_replay(path, replay, names)
