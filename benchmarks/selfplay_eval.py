"""Self-play populations (SPEC section 3): every seat the same kind of agent.

    python -m benchmarks.selfplay_eval --quick     # the recorded run
    python -m benchmarks.selfplay_eval             # the full size

Populations: all hop, all direct_om, all mcts (self-play checkpoints), all ppo, all prosocial
ppo, all nearest_prey and all random (scripted references). Each population plays M matches of
K episodes on the same layouts (seeds 0..M-1). Reported per population: reward per agent and
episode, and the stag-capture rate (the share of episodes in which a stag was caught), each
with a 95% bootstrap interval over matches. The trained agents come from
``trained_agents.py`` (shared with ``adaptation.py`` and cached).

Writes ``benchmarks/results/selfplay_eval.md`` (the full size: ``benchmarks/results/full/``).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import torch

from benchmarks import trained_agents
from benchmarks.common import machine_info
from staghunt_env.spec import Catch
from tom_agents.arena import play
from tom_agents.arena.report import format_ci
from tom_agents.stats import bootstrap_ci

POPULATIONS = ("hop", "direct_om", "mcts", "ppo", "ppo_prosocial", "nearest_prey", "random")


def main() -> None:
    args = trained_agents.arguments(__doc__.split("\n")[0])
    torch.set_num_threads(1)
    size = trained_agents.SIZES[args.size]
    start = time.perf_counter()
    specs, _ = trained_agents.prepare(args.size, args.cache, args.retrain)
    prepared = time.perf_counter()
    lines = [
        "# Self-play populations",
        "",
        f"Command: `python -m benchmarks.selfplay_eval{' --quick' if args.quick else ''}"
        f"{f' --search {args.search}' if args.search else ''}`. "
        f"Run on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
        *[f"- {key}: {value}" for key, value in machine_info().items()],
        f"- game: 4 hunters, {trained_agents.GAME}; {size.matches} matches x {size.episodes} "
        f"episodes per population; planners search {args.planner_options} per decision",
        "- agents: from `benchmarks/trained_agents.py`, seed 0 (the prosocial PPO: its only "
        f"run, seed 1); {size.selfplay_iterations} self-play iterations, PPO "
        f"{size.ppo_timesteps:,} steps",
        "",
        "Mean [95% bootstrap interval over matches].",
        "",
        "| population | reward per agent and episode | stag-capture rate (episodes) | "
        "hunters catching a stag | hunters catching a hare |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in POPULATIONS:
        result = play(
            [specs.get(name, name)] * 4,
            size.episodes,
            range(size.matches),
            planner_options=args.planner_options,
            progress=False,
        )
        stag_episode = (result.caught == Catch.STAG).any(axis=2)  # (M, K)
        cells = [
            format_ci(*bootstrap_ci(result.rewards.mean(axis=(1, 2)))),
            format_ci(*bootstrap_ci(stag_episode.mean(axis=1))),
            format_ci(*bootstrap_ci((result.caught == Catch.STAG).mean(axis=(1, 2)))),
            format_ci(*bootstrap_ci((result.caught == Catch.HARE).mean(axis=(1, 2)))),
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    done = time.perf_counter()
    lines += [
        "",
        f"Wall time: {(done - start) / 60:.1f} min ({(prepared - start) / 60:.1f} min preparing "
        f"the trained agents, {(done - prepared) / 60:.1f} min of matches).",
        "",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "selfplay_eval.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
