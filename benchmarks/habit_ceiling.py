"""What knowing the co-players' habit is worth to hop_plus, and how much of it the prior recovers.

    python -m benchmarks.habit_ceiling --matches 200 --episodes 4    # the recorded run

The ceiling of few-shot adaptation on the paper's game: one shipped hop_plus among three
co-players that keep one habit (``adaptation_paper.HABITS``), on the matches of
``adaptation_paper`` (paired). Three focal variants:

- ``told``: hop_plus told the habit before the match (``initial_goal_counts``: ``TOLD_COUNTS``
  of the habit's goal for every co-player, a prior of ~0.99 from episode 1 on). An oracle no
  real agent has: what perfect adaptation would earn with this search.
- ``shipped``: hop_plus as shipped, learning the habit from realised goals across episodes.
- ``no prior``: hop_plus forgetting between episodes (every episode starts uniform).

``told - no prior`` is all that adaptation could add; ``shipped - no prior`` is what the prior
adds; in episode 1 the shipped agent and the ablation hold the same uniform prior. The report
also counts what the co-players caught, the evidence the shipped prior learns from, and the
prior it reached. Writes
``benchmarks/results/paper/habit_ceiling.md``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from benchmarks.adaptation import EARLY
from benchmarks.adaptation_paper import HABITS, OUT, specs
from benchmarks.build_pretrained import HOP_PLUS_SEARCH
from benchmarks.common import machine_info
from staghunt_env.spec import Catch
from tom_agents import make_agent, register_agent
from tom_agents.arena import play
from tom_agents.arena.report import format_ci
from tom_agents.stats import bootstrap_ci

GOAL_OF_HABIT = {"nearest_stag": Catch.STAG, "nearest_hare": Catch.HARE, "ppo_selfish": Catch.HARE}
TOLD_COUNTS = 100.0  # with hop_plus's pseudo-count of 1: prior 101/102 on the habit's goal
VARIANTS = ("told", "shipped", "no prior")


def register(coplayer: str) -> dict[str, str]:
    """Agent names of the three variants against ``coplayer``."""
    told = [0.0, 0.0]
    told[GOAL_OF_HABIT[coplayer]] = TOLD_COUNTS
    register_agent(f"habit_told_{coplayer}", partial(make_agent, "hop_plus", pretrained=True,
                                                     initial_goal_counts=tuple(told)))  # fmt: skip
    register_agent("habit_no_prior", partial(make_agent, "hop_plus", pretrained=True,
                                             episode_prior=False))  # fmt: skip
    return {"told": f"habit_told_{coplayer}", "shipped": "shipped_hop_plus",
            "no prior": "habit_no_prior"}  # fmt: skip


def first(rewards: np.ndarray) -> np.ndarray:
    """(M,) episode 1 of (M, K) rewards."""
    return rewards[:, 0]


def rest(rewards: np.ndarray) -> np.ndarray:
    """(M,) the mean of episodes 2..EARLY of (M, K) rewards."""
    return rewards[:, 1:EARLY].mean(1)


def recovered(gain: np.ndarray, ceiling: np.ndarray) -> str:
    """The prior's gain as a share of the told gain; "-" where the told gain is not above 0."""
    return f"{gain.mean() / ceiling.mean():.0%}" if bootstrap_ci(ceiling)[1] > 0 else "-"


def habit_prior(prior: np.ndarray, goal: int, episodes: int) -> str:
    """The shipped agent's prior on the habit's goal at the start of episodes 1..EARLY, averaged
    over matches and co-players (``prior``: P(stag), (M, K, co-players))."""
    on_goal = prior if goal == Catch.STAG else 1 - prior
    return " / ".join(f"{on_goal[:, k].mean():.2f}" for k in range(min(episodes, EARLY)))


def catches(caught: np.ndarray) -> str:
    """What the co-players caught, as shares of their episodes: stag / hare / nothing."""
    shares = [(caught == c).mean() for c in (Catch.STAG, Catch.HARE, Catch.NOTHING)]
    return " / ".join(f"{s:.0%}" for s in shares)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=200)
    parser.add_argument("--episodes", type=int, default=EARLY)
    parser.add_argument("--cache", type=Path, default=Path("runs/pretrained"))
    parser.add_argument("--coplayers", nargs="+", choices=HABITS, default=list(HABITS))
    args = parser.parse_args()
    if args.episodes < 2:
        parser.error("--episodes must be at least 2 (episode 1 against the later ones)")
    torch.set_num_threads(1)
    start = time.perf_counter()
    seat_specs, _ = specs(args.cache)
    late = f"2..{min(args.episodes, EARLY)}"
    rows = []
    for x in tqdm(args.coplayers, desc="co-players"):
        names, r = register(x), {}
        for v in VARIANTS:
            result = play([names[v]] + [seat_specs.get(x, x)] * 3, args.episodes,
                          range(args.matches), progress=False)  # fmt: skip
            r[v] = result.rewards[:, :, 0]
            if v == "shipped":
                caught, prior = result.caught[:, :, 1:], result.prior[:, :, 0, 1:]
        gain, ceiling = rest(r["shipped"] - r["no prior"]), rest(r["told"] - r["no prior"])
        rows.append(
            f"| {x} | {GOAL_OF_HABIT[x].name.lower()} | {catches(caught)} | "
            + f"{habit_prior(prior, GOAL_OF_HABIT[x], args.episodes)} | "
            + " | ".join(format_ci(*bootstrap_ci(r[v].mean(1))) for v in VARIANTS)
            + f" | {format_ci(*bootstrap_ci(first(r['told'] - r['no prior'])))}"
            + f" | {format_ci(*bootstrap_ci(ceiling))} | {format_ci(*bootstrap_ci(gain))}"
            + f" | {recovered(gain, ceiling)}"
            + f" | {format_ci(*bootstrap_ci(rest(r['shipped']) - first(r['shipped'])))} |"
        )
    lines = [
        "# What knowing the co-players' habit is worth to hop_plus (1 focal + 3 co-players)",
        "",
        f"Command: `python -m benchmarks.habit_ceiling {shlex.join(sys.argv[1:])}`; wall time "
        f"{(time.perf_counter() - start) / 60:.1f} min; {args.matches} matches x K = "
        f"{args.episodes} episodes, the matches of `adaptation_paper`; hop_plus's search "
        f"{HOP_PLUS_SEARCH['num_trees']} trees x {HOP_PLUS_SEARCH['num_simulations']}.",
        "",
        "Focal reward per episode [95% bootstrap over matches]. told: hop_plus told the habit "
        f"before the match (goal counts {TOLD_COUNTS:g} on the habit's goal); shipped: learning "
        "it across episodes; no prior: every episode from the uniform prior. Δ columns are "
        "paired per match. Recovered: the shipped prior's share of the told gain in episodes "
        f"{late} (-: no gain to recover). Rise: shipped, episodes {late} minus episode 1 (each episode its own layout).",
        "",
        "| co-players | habit | their catches stag / hare / none (shipped run) | shipped prior "
        f"on the habit, episodes 1..{min(args.episodes, EARLY)} | told | shipped "
        f"| no prior | told - no prior, episode 1 | told - no prior, episodes {late} | shipped - "
        f"no prior, episodes {late} | recovered | rise, shipped |",
        "|---|---|---|---|" + "---:|" * 8,
        *rows,
        "",
        "Machine:",
        *[f"- {key}: {value}" for key, value in machine_info().items()],
        "",
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "habit_ceiling.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
