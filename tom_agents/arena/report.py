"""What a run of matches leaves on disk: episodes.csv, summary.md, rewards.png and GIF replays.

Intervals are 95% bootstrap intervals over matches (the independent unit: episodes of one
match share agents, so they are not independent).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from staghunt_env.spec import Catch

from ..atomic import atomic_write_figure, atomic_write_text, csv_text
from ..replays import write_replay
from ..seat_specs import short_name
from ..stats import bootstrap_ci
from .match import ArenaResult

# What a run of matches writes in its folder (tom-arena refuses to mix two runs' files).
OUTPUTS = ("episodes.csv", "summary.md", "rewards.png", "replay_episode_*.gif")


def spec_rewards(result: ArenaResult, spec: str) -> np.ndarray:
    """(M, K): the mean reward of the seats that ``spec`` plays, per match and episode."""
    seats = result.seats_of(spec)
    if not seats:
        raise ValueError(f"{spec!r} does not play in the lineup {result.lineup}")
    return result.rewards[:, :, seats].mean(axis=2)


def episode_curve(values: np.ndarray) -> np.ndarray:
    """(K, 3): mean and 95% interval over matches of (M, K) values, per episode index."""
    return np.array([bootstrap_ci(values[:, k]) for k in range(values.shape[1])])


def catch_rates(caught: np.ndarray) -> list[float]:
    """Shares of ``caught`` (``ArenaResult.caught`` codes) that are stag, hare and nothing."""
    return [float((caught == c).mean()) for c in (Catch.STAG, Catch.HARE, Catch.NOTHING)]


def format_ci(mean: float, lo: float, hi: float) -> str:
    return f"{mean:.2f} [{lo:.2f}, {hi:.2f}]"


def summary_markdown(result: ArenaResult) -> str:
    """Per agent spec: reward per episode over all episodes, catch rates, and reward per episode index."""
    specs = list(dict.fromkeys(result.lineup))
    m, k = result.rewards.shape[:2]
    lines = [
        f"# Arena: {' + '.join(map(short_name, result.lineup))}",
        "",
        f"{m} matches x {k} episodes (seeds {_seeds_text(result.seeds)}), "
        f"{result.seconds:.1f} s. Reward per agent and episode, mean and 95% bootstrap interval "
        "over matches.",
        "",
        "| agent | seats | reward | stag | hare | nothing |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for spec in specs:
        seats = result.seats_of(spec)
        rates = catch_rates(result.caught[:, :, seats])
        ci = bootstrap_ci(spec_rewards(result, spec).mean(axis=1))
        lines.append(
            f"| {short_name(spec)} | {','.join(map(str, seats))} | {format_ci(*ci)} | "
            + " | ".join(f"{r:.2f}" for r in rates)
            + " |"
        )
    curves = {spec: episode_curve(spec_rewards(result, spec)) for spec in specs}
    lines += ["", "Reward per episode index:", ""]
    lines.append("| episode | " + " | ".join(map(short_name, specs)) + " |")
    lines.append("|---:|" + "---:|" * len(specs))
    for e in range(k):
        cells = [format_ci(*curves[spec][e]) for spec in specs]
        lines.append(f"| {e + 1} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _seeds_text(seeds: list[int]) -> str:
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}..{seeds[-1]}"
    return ", ".join(map(str, seeds))


def plot_rewards(results: Mapping[str, ArenaResult], path: Path) -> Path:
    """Reward per episode index, one panel per lineup, one line (with its interval) per agent spec."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(
        1, len(results), figsize=(4.5 * len(results), 4.2), squeeze=False, sharey=True
    )
    for ax, (name, result) in zip(axes[0], results.items()):
        x = np.arange(1, result.episodes + 1)
        for spec in dict.fromkeys(result.lineup):
            curve = episode_curve(spec_rewards(result, spec))
            ax.plot(x, curve[:, 0], marker="o", label=short_name(spec))
            ax.fill_between(x, curve[:, 1], curve[:, 2], alpha=0.2)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("episode of the match")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        # below the axes, out of the data
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    axes[0, 0].set_ylabel("reward per agent (mean, 95% CI)")
    fig.tight_layout()
    try:
        return atomic_write_figure(path, fig)
    finally:
        plt.close(fig)


def write_csv(result: ArenaResult, path: Path) -> Path:
    return atomic_write_text(path, csv_text(result.rows()))


def write_outputs(result: ArenaResult, out_dir: str | Path) -> dict[str, Path]:
    """episodes.csv, summary.md, rewards.png, and replay_episode_<k>.gif per recorded episode.

    Each file is written atomically; a failed write is a WriteError naming it. The folder is
    not claimed here: ``tom-arena`` claims it first (:mod:`tom_agents.run_folders`).
    """
    out = Path(out_dir)
    paths = {
        "csv": write_csv(result, out / "episodes.csv"),
        "markdown": atomic_write_text(out / "summary.md", summary_markdown(result)),
        "plot": plot_rewards(
            {" + ".join(map(short_name, result.lineup)): result}, out / "rewards.png"
        ),
    }
    names = [short_name(spec) for spec in result.lineup]
    for k, replay in enumerate(result.replays):
        paths[f"gif_{k}"] = write_replay(out / f"replay_episode_{k + 1}.gif", replay, names)
    return paths
