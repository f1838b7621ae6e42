"""Few-shot adaptation on the paper's game, with the shipped agents (SPEC section 3).

    python -m benchmarks.adaptation_paper               # the recorded run
    python -m benchmarks.adaptation_paper --quick       # a smoke run (minutes)

The default game (4 hunters, 8x8, 1 stag, 4 hares, 35 steps). Focal agents: the shipped
pretrained planners (``make_agent(name, pretrained=True)``: hop, the faithful SPEC method;
hop_plus, the same networks planning with :data:`tom_agents.planner.HOP_PLUS`; direct_om;
mcts) and ppo, plus the ablation ``hop_plus_no_prior`` (hop_plus forgetting its goal and
wanderer counts between episodes: every episode starts from the uniform prior). Mixes "1 focal
+ 3 co-players" and "3 focal + 1 co-player"; co-players random, nearest_stag, nearest_hare,
nearest_prey, ppo_selfish, ppo_prosocial (shipped) and hop_selfplay (hop trained by self-play
from another seed); K consecutive episodes per match, every lineup on the same layouts
(paired). Scripted references: a nearest_hare (nearest_stag) hunter in the focal seats with
hare-only (stag-only) co-players. ppo_selfish and hop_selfplay are trained first as
``benchmarks.build_pretrained`` trains the shipped agents (cached in ``--cache``). Writes
``benchmarks/results/paper/``.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

import torch
from tqdm import tqdm

from benchmarks import adaptation, trained_agents
from benchmarks.adaptation import COPLAYERS, EARLY, MIXES, plot, reward_tables, write_csv
from benchmarks.common import machine_info
from staghunt_env.spec import Catch
from tom_agents import make_agent, register_agent
from tom_agents.arena import play
from tom_agents.arena.report import format_ci
from tom_agents.stats import bootstrap_ci

RECOMMENDED = "hop_plus"
ABLATION = "hop_plus_no_prior"
FOCALS = ("hop", RECOMMENDED, ABLATION, "direct_om", "mcts", "ppo")
BASELINES = ("hop", *adaptation.BASELINES)
# co-players that keep one habit -> the goal they keep (ppo_selfish: hares or nothing, as caught
# in results/paper/habit_ceiling.md)
HABITS = {"nearest_stag": Catch.STAG, "nearest_hare": Catch.HARE, "ppo_selfish": Catch.HARE}
REFERENCES = {"nearest_hare": "nearest_hare", "nearest_stag": "nearest_stag"}  # co-player: focal
SHIPPED = {  # benchmark name -> (shipped agent, options)
    "hop": ("hop", {}),
    RECOMMENDED: ("hop_plus", {}),
    ABLATION: ("hop_plus", {"episode_prior": False}),
    "direct_om": ("direct_om", {}),
    "mcts": ("mcts", {}),
    "ppo": ("ppo", {}),
    "ppo_prosocial": ("ppo_prosocial", {}),
}
OUT = Path(__file__).resolve().parent / "results" / "paper"


def specs(cache: Path) -> tuple[dict[str, str], dict]:
    """Seat specs by benchmark name: shipped agents registered under ``shipped_<name>``, the two
    co-players not shipped trained (or read from the cache)."""
    for name, (agent, options) in SHIPPED.items():
        register_agent(f"shipped_{name}", partial(make_agent, agent, pretrained=True, **options))
    trained, seconds = trained_agents.prepare(
        "quick", cache, game=trained_agents.default_game(), names=("hop_selfplay", "ppo_selfish")
    )
    return {**{name: f"shipped_{name}" for name in SHIPPED}, **trained}, seconds


def run(args: argparse.Namespace) -> dict:
    start = time.perf_counter()
    seat_specs, train_seconds = specs(args.cache)
    lineups = [(m, x, f) for m in MIXES for x in COPLAYERS for f in FOCALS]
    lineups += [(m, x, f) for m in MIXES for x, f in REFERENCES.items()]
    rewards = {}
    for mix, coplayer, focal in tqdm(lineups, desc="lineups"):
        n = MIXES[mix]
        lineup = [seat_specs.get(focal, focal)] * n + [seat_specs.get(coplayer, coplayer)] * (4 - n)
        result = play(lineup, args.episodes, range(args.matches), progress=False)
        rewards[mix, coplayer, focal] = result.rewards[:, :, :n].mean(axis=2)
    return {"rewards": rewards, "train_seconds": train_seconds, "start": start}


def requirement_lines(rewards: dict) -> list[str]:
    """The issue's targets, each computed from the rewards, whatever it shows."""
    cells = [(m, x) for m in MIXES for x in COPLAYERS]
    lines = [
        "## The targets, tested",
        "",
        f"**(1) {RECOMMENDED} at least as good as every baseline in every cell, better in "
        f"most.** {RECOMMENDED} - baseline, focal reward per episode over all K, paired by "
        "match, 95% bootstrap interval:",
        "",
        "| baseline | cells higher (mean) | interval > 0 | interval < 0 (worse) | worse in |",
        "|---|---:|---:|---:|---|",
    ]
    for base in BASELINES:
        diff = {c: bootstrap_ci(rewards[(*c, RECOMMENDED)].mean(1) - rewards[(*c, base)].mean(1))
                for c in cells}  # fmt: skip
        worse = [f"{m.split()[0]}+{x}" for (m, x), d in diff.items() if d[2] < 0]
        lines.append(
            f"| {base} | {sum(d[0] > 0 for d in diff.values())}/{len(cells)} | "
            f"{sum(d[1] > 0 for d in diff.values())}/{len(cells)} | {len(worse)}/{len(cells)} | "
            f"{', '.join(worse) or '-'} |"
        )
    lines += [
        "",
        f"**(2) Adaptation against co-players of one habit.** Rise: episodes 2..{EARLY} minus "
        f"episode 1, per match; and episodes 2..{EARLY} of {RECOMMENDED} minus those of "
        f"{ABLATION} (the same agent forgetting between episodes), paired by match; and the "
        f"same difference over the match's later episodes, {EARLY + 1}..K, where the goal counts "
        "of more episodes shape the prior:",
        "",
        f"| mix | co-player | rise of {RECOMMENDED} | rise of {ABLATION} | rise of hop | "
        f"{RECOMMENDED} - {ABLATION}, episodes 2..{EARLY} | the same, episodes {EARLY + 1}..K |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for mix in MIXES:
        for x in HABITS:
            rise = {
                f: format_ci(*bootstrap_ci(adaptation.rise(rewards[mix, x, f])))
                for f in (RECOMMENDED, ABLATION, "hop")
            }
            gap = rewards[mix, x, RECOMMENDED] - rewards[mix, x, ABLATION]
            early = format_ci(*bootstrap_ci(adaptation.early_episodes(gap)))
            late = format_ci(*bootstrap_ci(gap[:, EARLY:].mean(1))) if gap.shape[1] > EARLY else "-"
            lines.append(
                f"| {mix} | {x} | {rise[RECOMMENDED]} | {rise[ABLATION]} | {rise['hop']} | "
                f"{early} | {late} |"
            )
    lines += [
        "",
        "**(3) Against hare-only (stag-only) co-players, at least 90% of a scripted hare (stag) "
        "hunter in the same seats**, reward per episode over all K:",
        "",
        f"| mix | co-players | scripted | {RECOMMENDED} | share | hop | share |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for mix in MIXES:
        for x, ref in REFERENCES.items():
            base = rewards[mix, x, ref].mean()
            mine, hop = rewards[mix, x, RECOMMENDED].mean(), rewards[mix, x, "hop"].mean()
            lines.append(
                f"| {mix} | {x} | {base:.2f} | {mine:.2f} | {mine / base:.0%} | {hop:.2f} | "
                f"{hop / base:.0%} |"
            )
    return [*lines, ""]


def report(out: dict, args: argparse.Namespace, command: str) -> str:
    minutes = (time.perf_counter() - out["start"]) / 60
    lines = [
        "# Few-shot adaptation on the paper's game, shipped agents",
        "",
        f"Command: `{command}`; wall time {minutes:.1f} min.",
        "",
        *[f"- {key}: {value}" for key, value in machine_info().items()],
        "- game: the default (4 hunters, 8x8, 1 stag, 4 hares, 35 steps, 5 wall pieces)",
        f"- {args.matches} matches x K = {args.episodes} episodes per lineup, paired on layouts; "
        "planners search with their shipped options (hop, direct_om, mcts: 2 trees x 16 "
        "simulations; hop_plus: hop's policy-value net with the scripted opponent model and "
        "wanderer counts, 4 trees x 8)",
        "- agents: the shipped pretrained ones (`tom_agents/pretrained/manifest.json`); "
        "hop_selfplay and ppo_selfish trained with seed 1 as the shipped agents are, training "
        "time (s): " + ", ".join(f"{k} {v:.0f}" for k, v in out["train_seconds"].items()),
        "",
        "Focal reward per agent and episode, mean over all K [95% bootstrap interval over "
        "matches]. Bold: the best focal agent of the column.",
        "",
        *reward_tables(out["rewards"], FOCALS, COPLAYERS),
        *requirement_lines(out["rewards"]),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=24, help="matches per lineup")
    parser.add_argument("--episodes", type=int, default=10, help="K, episodes per match")
    parser.add_argument("--quick", action="store_true", help="4 matches x 4 episodes")
    parser.add_argument("--cache", type=Path, default=Path("runs/pretrained"))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.quick:
        args.matches, args.episodes = 4, 4
    torch.set_num_threads(1)
    out = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python -m benchmarks.adaptation_paper", *sys.argv[1:]])
    text = report(out, args, command)
    (args.out / "adaptation.md").write_text(text)
    plot(out["rewards"], args.episodes, args.out / "adaptation.png", FOCALS, COPLAYERS)
    write_csv(out["rewards"], args.out / "adaptation_focal.csv")
    print(text)


if __name__ == "__main__":
    main()
