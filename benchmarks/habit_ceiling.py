"""What knowing the co-players' habit is worth to hop_plus, and how much of it its prior gains.

    python -m benchmarks.habit_ceiling --matches 200 --episodes 4    # the recorded run

A reference for few-shot adaptation on the paper's game: one shipped hop_plus among three
co-players that keep one habit (``adaptation_paper.HABITS``, each with the goal it keeps), on
the matches of ``adaptation_paper`` (paired). Three focal variants:

- ``told``: hop_plus told the habit before the match (``initial_goal_counts``: ``TOLD_COUNTS``
  of the habit's goal for every co-player, a prior of ~0.99 from episode 1 on). An oracle no
  real agent has: what a known habit is worth with this search (a reference, not a bound:
  another prior could do better).
- ``shipped``: hop_plus as shipped, learning the habit from realised goals across episodes.
- ``no prior``: hop_plus forgetting between episodes (every episode starts uniform).

``told - no prior`` is what knowing the habit adds; ``shipped - no prior`` is what learning it
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

import torch
from tqdm import tqdm

from benchmarks.adaptation import EARLY, early_episodes, rise
from benchmarks.adaptation_paper import ABLATION, HABITS, OUT, RECOMMENDED, specs
from benchmarks.build_pretrained import HOP_PLUS_SEARCH
from benchmarks.common import machine_info
from staghunt_env.spec import Catch
from tom_agents import make_agent, register_agent
from tom_agents.arena import ArenaResult, play
from tom_agents.arena.report import catch_rates, format_ci
from tom_agents.pretrained import options_for
from tom_agents.stats import bootstrap_ci

TOLD_COUNTS = 100.0  # with hop_plus's pseudo-count of 1: prior 101/102 on the habit's goal
VARIANTS = ("told", "shipped", "no prior")


def variant_specs(coplayer: str, seat_specs: dict[str, str]) -> dict[str, str]:
    """Seat specs of the three variants against ``coplayer`` (the told one registered here)."""
    told = [0.0, 0.0]
    told[HABITS[coplayer]] = TOLD_COUNTS
    register_agent(f"habit_told_{coplayer}", partial(make_agent, "hop_plus", pretrained=True,
                                                     initial_goal_counts=tuple(told)))  # fmt: skip
    return {"told": f"habit_told_{coplayer}", "shipped": seat_specs[RECOMMENDED],
            "no prior": seat_specs[ABLATION]}  # fmt: skip


def habit_prior(result: ArenaResult, goal: int) -> str:
    """The focal's prior on the habit's goal at the start of episodes 1..EARLY, averaged over
    matches and co-players (``result.prior``: P(stag) seat 0 planned with about each other seat;
    with wanderer counts, a likely wanderer counts as no stag hunter, i.e. towards hares)."""
    stag = result.prior[:, :EARLY, 0, 1:]
    on_goal = stag if goal == Catch.STAG else 1 - stag
    return " / ".join(f"{on_goal[:, k].mean():.2f}" for k in range(on_goal.shape[1]))


def row(coplayer: str, results: dict[str, ArenaResult]) -> str:
    """One report row: the shipped run's evidence, each variant's reward, the paired gains."""
    r = {v: results[v].rewards[:, :, 0] for v in VARIANTS}
    shipped, goal = results["shipped"], HABITS[coplayer]
    rates = catch_rates(shipped.caught[:, :, 1:])
    cells = [
        goal.name.lower(),
        " / ".join(f"{rate:.0%}" for rate in rates),
        habit_prior(shipped, goal),
        *[format_ci(*bootstrap_ci(r[v].mean(1))) for v in VARIANTS],
        format_ci(*bootstrap_ci(r["told"][:, 0] - r["no prior"][:, 0])),
        format_ci(*bootstrap_ci(early_episodes(r["told"] - r["no prior"]))),
        format_ci(*bootstrap_ci(early_episodes(r["shipped"] - r["no prior"]))),
        format_ci(*bootstrap_ci(rise(r["shipped"]))),
    ]
    return f"| {coplayer} | " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=200)
    parser.add_argument("--episodes", type=int, default=EARLY)
    parser.add_argument("--cache", type=Path, default=Path("runs/pretrained"))
    parser.add_argument("--coplayers", nargs="+", choices=HABITS, default=list(HABITS))
    args = parser.parse_args()
    if args.episodes < EARLY:
        parser.error(f"--episodes must be at least {EARLY} (episode 1 against 2..{EARLY})")
    torch.set_num_threads(1)
    start = time.perf_counter()
    seat_specs, _ = specs(args.cache)
    rows = []
    for x in tqdm(args.coplayers, desc="co-players"):
        focal = variant_specs(x, seat_specs)
        results = {v: play([focal[v]] + [seat_specs.get(x, x)] * 3, args.episodes,
                           range(args.matches), progress=False) for v in VARIANTS}  # fmt: skip
        rows.append(row(x, results))
    late = f"episodes 2..{EARLY}"
    lines = [
        "# What knowing the co-players' habit is worth to hop_plus (1 focal + 3 co-players)",
        "",
        f"Command: `python -m benchmarks.habit_ceiling {shlex.join(sys.argv[1:])}`; wall time "
        f"{(time.perf_counter() - start) / 60:.1f} min; {args.matches} matches x K = "
        f"{args.episodes} episodes, the matches of `adaptation_paper`; hop_plus's search "
        f"{HOP_PLUS_SEARCH['num_trees']} trees x {HOP_PLUS_SEARCH['num_simulations']}, its "
        f"opponent model {options_for(RECOMMENDED)['opponent_model']}.",
        "",
        "Focal reward per episode [95% bootstrap over matches]. told: hop_plus told the habit "
        f"before the match (goal counts {TOLD_COUNTS:g} on the habit's goal); shipped: learning "
        "it across episodes; no prior: every episode from the uniform prior. Differences are "
        f"paired per match. Rise: shipped, {late} minus episode 1 (each episode its own layout).",
        "",
        "| co-players | habit | their catches stag / hare / none (shipped run) | shipped prior "
        f"on the habit, episodes 1..{EARLY} | told, over all K | shipped, over all K | no prior, "
        f"over all K | told - no prior, episode 1 | told - no prior, {late} | shipped - no "
        f"prior, {late} | rise, shipped |",
        "|---|---|---|---|" + "---:|" * 7,
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
