"""Few-shot adaptation (SPEC section 3): focal agents meet co-players they never trained with.

    python -m benchmarks.adaptation --quick     # the recorded run (trains its agents first)
    python -m benchmarks.adaptation             # the full size

Focal agents {hop, direct_om, mcts, ppo} play in the mixes "1 focal + 3 co-players" and
"3 focal + 1 co-player" with co-players {random, nearest_stag, nearest_hare, nearest_prey,
ppo selfish, ppo prosocial, hop self-play}, K = 10 consecutive episodes per match with the
same agents, many matches (seeds 0..M-1: every lineup meets the same layouts, so lineups are
compared match by match). Reported: the focal agents' mean reward per episode, per episode
index and over all K, with 95% bootstrap intervals over matches; and the claim test (HOP earns
more than each baseline, and its reward rises over the first episodes).

In the arena every network is frozen (and shared by all matches); what an agent carries from
one episode to the next is its own state: hop's goal beliefs (the discounted goal counts that
set the next episode's prior). direct_om, mcts and ppo carry nothing, so they are the
no-adaptation reference of the rise.

Writes ``benchmarks/results/adaptation.md``, ``adaptation.png`` (a grid of curves) and
``adaptation_focal.csv`` (the focal reward of every match and episode); the full size writes
them to ``benchmarks/results/full/``.
"""

from __future__ import annotations

import csv
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from benchmarks import trained_agents
from benchmarks.common import machine_info
from staghunt_env.spec import Catch
from tom_agents.arena import play
from tom_agents.arena.report import episode_curve, format_ci
from tom_agents.stats import bootstrap_ci

FOCALS = ("hop", "direct_om", "mcts", "ppo")
BASELINES = FOCALS[1:]
COPLAYERS = (
    "random",
    "nearest_stag",
    "nearest_hare",
    "nearest_prey",
    "ppo_selfish",
    "ppo_prosocial",
    "hop_selfplay",
)
MIXES = {"1 focal + 3 co-players": 1, "3 focal + 1 co-player": 3}
EARLY = 4  # "the first episodes": episode 1 against episodes 2..EARLY


def early_episodes(rewards: np.ndarray) -> np.ndarray:
    """(M,) per match, the mean of episodes 2..EARLY of (M, K) rewards: where a prior acts first."""
    return rewards[:, 1:EARLY].mean(1)


def rise(rewards: np.ndarray) -> np.ndarray:
    """(M,) per match, episodes 2..EARLY minus episode 1 (each episode has its own layout)."""
    return early_episodes(rewards) - rewards[:, 0]


def run(size_name: str, cache: Path, retrain: bool, planner_options: dict) -> dict:
    """Every (mix, co-player, focal) lineup: the focal agents' rewards, (M, K) each."""
    size = trained_agents.SIZES[size_name]
    start = time.perf_counter()
    print(f"preparing the trained agents ({size_name}) in {cache / size_name}", flush=True)
    specs, train_seconds = trained_agents.prepare(size_name, cache, retrain)
    prepared = time.perf_counter()
    seeds = range(size.matches)
    rewards: dict[tuple[str, str, str], np.ndarray] = {}
    play_seconds: dict[tuple[str, str, str], float] = {}
    beliefs: dict[tuple[str, str], np.ndarray] = {}
    lineups = [(m, x, f) for m in MIXES for x in COPLAYERS for f in FOCALS]
    for mix, coplayer, focal in tqdm(lineups, desc="lineups"):
        n = MIXES[mix]
        lineup = [specs[focal]] * n + [specs.get(coplayer, coplayer)] * (4 - n)
        result = play(
            lineup,
            size.episodes,
            seeds,
            planner_options=planner_options,
            progress=False,
        )
        rewards[mix, coplayer, focal] = result.rewards[:, :, :n].mean(axis=2)
        play_seconds[mix, coplayer, focal] = result.seconds
        if focal == "hop":
            beliefs[mix, coplayer] = prior_on_realised_goal(result, n)
    return {
        "size": size,
        "size_name": size_name,
        "planner_options": planner_options,
        "specs": specs,
        "rewards": rewards,
        "beliefs": beliefs,
        "train_seconds": train_seconds,
        "play_seconds": play_seconds,
        "prepare_seconds": prepared - start,
        "total_seconds": time.perf_counter() - start,
    }


def prior_on_realised_goal(result, n_focal: int) -> np.ndarray:
    """(K,): the focal planners' prior P(g) at each episode's start, for the goal g each
    co-player then realised (over co-players that caught something)."""
    prior = result.prior[:, :, :n_focal]  # (M, K, focal seat, seat): P(stag)
    realised = result.caught[:, :, None, :]  # (M, K, 1, seat)
    on_goal = np.where(realised == Catch.STAG, prior, 1 - prior)
    valid = (realised != Catch.NOTHING) & ~np.isnan(prior)
    return np.array([on_goal[:, k][valid[:, k]].mean() for k in range(prior.shape[1])])


def pooled(per_cell: list[np.ndarray]) -> tuple[float, float, float]:
    """Mean over cells of per-match values, then its 95% bootstrap interval over matches.

    Every lineup plays the same matches (seeds, layouts), so match m of every cell is one unit.
    """
    return bootstrap_ci(np.mean(per_cell, axis=0))


def claim_lines(rewards: dict) -> tuple[list[str], dict[str, bool]]:
    """The claim, tested per cell and pooled over cells; the verdicts are computed, whatever they are."""
    cells = [(m, x) for m in MIXES for x in COPLAYERS]
    unlike = [(m, x) for m, x in cells if x != "hop_selfplay"]
    verdicts = {}
    lines = ["## The claim, tested", ""]
    lines.append(
        "(a) *hop earns more than direct_om, mcts and ppo as focal agents in most mixes.* Per "
        f"cell (mix x co-player, {len(cells)} cells): hop - baseline in focal reward per episode "
        "over all K, paired by match (the same layouts), with its 95% interval; pooled: the "
        "per-match mean of that difference over all cells, with its interval over matches."
    )
    lines += [
        "",
        "| baseline | cells where hop is higher (mean) | ... with interval > 0 | cells where hop is lower with interval < 0 | pooled hop - baseline |",
        "|---|---:|---:|---:|---:|",
    ]
    for base in BASELINES:
        diff = [rewards[m, x, "hop"].mean(1) - rewards[m, x, base].mean(1) for m, x in cells]
        per_cell = [bootstrap_ci(d) for d in diff]
        higher = sum(c[0] > 0 for c in per_cell)
        total = pooled(diff)
        verdicts[f"a_{base}"] = higher > len(cells) / 2 and total[1] > 0
        lines.append(
            f"| {base} | {higher}/{len(cells)} | {sum(c[1] > 0 for c in per_cell)}/{len(cells)} | "
            f"{sum(c[2] < 0 for c in per_cell)}/{len(cells)} | {format_ci(*total)} |"
        )
    held = [b for b in BASELINES if verdicts[f"a_{b}"]]
    lines += [
        "",
        "Verdict (a), counted as holding against a baseline when hop is higher in most cells "
        "and the pooled interval is above zero: "
        f"**{'holds' if len(held) == len(BASELINES) else 'does not hold'}** "
        f"(holds against {held or 'none'} of {list(BASELINES)}).",
        "",
        f"(b) *hop's reward rises over the first episodes against co-players unlike those it "
        f"trained with.* Rise: mean focal reward of episodes 2..{EARLY} minus episode 1, per "
        f"match, in the {len(unlike)} cells without hop self-play co-players. In the arena only "
        "hop carries anything from one episode to the next (its goal beliefs; every network is "
        "frozen), so the baselines' rise is the reference: what changes between episodes "
        "without adaptation (the layouts differ). Pooled over cells, with 95% intervals over "
        "matches:",
        "",
        "| focal | cells with rise > 0 (mean) | ... with interval > 0 | pooled rise | hop's rise - this rise |",
        "|---|---:|---:|---:|---:|",
    ]
    rises = {f: [rise(rewards[m, x, f]) for m, x in unlike] for f in FOCALS}
    for focal in FOCALS:
        per_cell = [bootstrap_ci(r) for r in rises[focal]]
        versus = (
            format_ci(*pooled([h - b for h, b in zip(rises["hop"], rises[focal])]))
            if focal != "hop"
            else ""
        )
        lines.append(
            f"| {focal} | {sum(c[0] > 0 for c in per_cell)}/{len(unlike)} | "
            f"{sum(c[1] > 0 for c in per_cell)}/{len(unlike)} | {format_ci(*pooled(rises[focal]))} | "
            f"{versus} |"
        )
    hop_rise = pooled(rises["hop"])
    faster = [
        b for b in BASELINES if pooled([h - r for h, r in zip(rises["hop"], rises[b])])[1] > 0
    ]
    verdicts["b"] = hop_rise[1] > 0
    lines += [
        "",
        f"Verdict (b): **{'holds' if verdicts['b'] else 'does not hold'}**: hop's pooled rise is "
        f"{format_ci(*hop_rise)}; it rises more than {faster or 'none'} of {list(BASELINES)} "
        "with an interval above zero.",
    ]
    return lines, verdicts


def report(out: dict, command: str) -> str:
    size, rewards = out["size"], out["rewards"]
    lines = [
        "# Few-shot adaptation (SPEC section 3)",
        "",
        f"Command: `{command}`. Run on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
        *[f"- {key}: {value}" for key, value in machine_info().items()],
        f"- wall time of this run: {out['total_seconds'] / 60:.1f} min, of which "
        f"{sum(out['play_seconds'].values()) / 60:.1f} min of matches and "
        f"{out['prepare_seconds'] / 60:.1f} min preparing the agents; training them took "
        f"{sum(out['train_seconds'].values()) / 60:.1f} min when they were trained (cached "
        "since, in `runs/benchmark_agents/`)",
        f"- game: 4 hunters, {trained_agents.GAME} (the self-play `quick` preset's game)",
        f"- {size.matches} matches x K = {size.episodes} episodes per lineup, "
        f"{len(rewards)} lineups; planners search {out['planner_options']} per decision "
        f"(they trained with {trained_agents.SEARCH})",
        f"- trained agents: planners by self-play ({size.selfplay_iterations} iterations of the "
        f"`quick` preset, opponent model learned/goal_free/uniform), PPO for "
        f"{size.ppo_timesteps:,} agent-steps (SuperSuit + SB3, shared parameters); focal agents "
        "seed 0, co-players seed 1. Training time per agent (s): "
        + ", ".join(f"{k} {v:.0f}" for k, v in out["train_seconds"].items()),
        "",
        "Focal reward per agent and episode, mean over all K episodes [95% bootstrap interval "
        "over matches]. Bold: the best focal agent of the column.",
        "",
    ]
    lines += [*reward_tables(rewards, FOCALS, COPLAYERS), *claim_lines(rewards)[0], ""]
    curve = np.mean(list(out["beliefs"].values()), axis=0)
    lines += [
        "What hop's beliefs did: its prior at the start of each episode for the goal each "
        "co-player then realised (0.5 = no knowledge; mean over cells, co-players that caught "
        "something):",
        "",
        "| episode | " + " | ".join(str(k + 1) for k in range(len(curve))) + " |",
        "|---|" + "---:|" * len(curve),
        "| prior on the realised goal | " + " | ".join(f"{p:.2f}" for p in curve) + " |",
        "",
    ]
    return "\n".join(lines)


def reward_tables(rewards: dict, focals: tuple, coplayers: tuple) -> list[str]:
    """Per mix, the focal reward over all K per (focal, co-player), the best in bold; then the
    reward of episode 1 -> episodes 2..4 -> the rest."""
    lines = []
    for mix in MIXES:
        lines += [f"### {mix}", "", "| focal | " + " | ".join(coplayers) + " |"]
        lines.append("|---|" + "---:|" * len(coplayers))
        best = {x: max(focals, key=lambda f: rewards[mix, x, f].mean()) for x in coplayers}
        for focal in focals:
            cells = []
            for x in coplayers:
                text = format_ci(*bootstrap_ci(rewards[mix, x, focal].mean(1)))
                cells.append(f"**{text}**" if best[x] == focal else text)
            lines.append(f"| {focal} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "Focal reward in episode 1 -> mean of episodes 2..4 -> mean of episodes 5..K:",
        "",
        "| mix | co-player | " + " | ".join(focals) + " |",
        "|---|---|" + "---|" * len(focals),
    ]
    for mix in MIXES:
        for x in coplayers:
            cells = []
            for f in focals:
                r = rewards[mix, x, f]
                cells.append(
                    f"{r[:, 0].mean():.2f} -> {r[:, 1:EARLY].mean():.2f} -> {r[:, EARLY:].mean():.2f}"
                )
            lines.append(f"| {mix} | {x} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def plot(
    rewards: dict,
    episodes: int,
    path: Path,
    focals: tuple = FOCALS,
    coplayers: tuple = COPLAYERS,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(MIXES), len(coplayers), figsize=(2.6 * len(coplayers), 2.6 * len(MIXES)), sharex=True
    )
    x = np.arange(1, episodes + 1)
    for row, mix in zip(axes, MIXES):
        for ax, coplayer in zip(row, coplayers):
            for focal in focals:
                curve = episode_curve(rewards[mix, coplayer, focal])
                ax.plot(x, curve[:, 0], label=focal, lw=1.4)
                ax.fill_between(x, curve[:, 1], curve[:, 2], alpha=0.15)
            ax.set_title(f"{mix.split(' ')[0]} focal + {coplayer}", fontsize=8)
            ax.tick_params(labelsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("episode", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("focal reward", fontsize=8)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_csv(rewards: dict, path: Path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["mix", "coplayer", "focal", "match", "episode", "focal_reward"])
        for (mix, coplayer, focal), r in rewards.items():
            for m, k in np.ndindex(r.shape):
                writer.writerow([mix, coplayer, focal, m, k + 1, f"{r[m, k]:.4f}"])


def main() -> None:
    args = trained_agents.arguments(__doc__.split("\n")[0])
    torch.set_num_threads(1)
    out = run(args.size, args.cache, args.retrain, args.planner_options)
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python -m benchmarks.adaptation" + (" --quick" if args.quick else "")
    command += f" --search {args.search}" if args.search else ""
    text = report(out, command)
    (args.out / "adaptation.md").write_text(text)
    plot(out["rewards"], out["size"].episodes, args.out / "adaptation.png")
    write_csv(out["rewards"], args.out / "adaptation_focal.csv")
    print(text)


if __name__ == "__main__":
    main()
