"""How hop_plus uses its beliefs on the paper's game: the inter-episode prior (as SPEC forms it,
with pseudo-counts, without it), the number of trees, i.e. of goal samples per decision, and
the model its beliefs and trees read the co-players by; paired on the layouts of
``benchmarks.adaptation_paper``.

    python -m benchmarks.prior_ablation --matches 12 --episodes 6
    python -m benchmarks.prior_ablation --variants "pseudo-count 1" "soft counts" "no prior" \
        --base "pseudo-count 1" --coplayers nearest_stag nearest_hare ppo_selfish \
        --report soft_counts.md
    python -m benchmarks.prior_ablation --variants "pseudo-count 1" "4 trees x 8" "8 trees x 4" \
        --base "pseudo-count 1" --matches 20 --episodes 10 --report trees.md
    python -m benchmarks.prior_ablation --variants "4 trees x 8" "4 x 8, pseudo-count 0.25" \
        "4 x 8, no prior" --base "4 trees x 8" --matches 16 --episodes 10 --report strength.md
    python -m benchmarks.prior_ablation --variants "4 trees x 8" "4 x 8, no prior" \
        "4 x 8, soft counts" --base "4 trees x 8" --coplayers nearest_stag nearest_hare \
        ppo_selfish --matches 200 --episodes 4 --report early.md
    python -m benchmarks.prior_ablation --variants "4 trees x 8" "scripted OM" \
        --base "4 trees x 8" --matches 24 --episodes 10 --report opponent_model.md
    python -m benchmarks.prior_ablation --variants "scripted OM" "scripted OM, no prior" \
        --base "scripted OM" --coplayers nearest_stag nearest_hare ppo_selfish --matches 200 \
        --episodes 4 --report early_scripted.md
    python -m benchmarks.prior_ablation --variants "scripted OM" "wanderers 0.25" \
        --base "scripted OM" --matches 24 --episodes 10 --report wanderers.md
    python -m benchmarks.prior_ablation --variants "scripted OM" "wanderers 0.05" \
        --base "scripted OM" --coplayers ppo_selfish random hop_selfplay --matches 24 \
        --episodes 10 --report wanderers_005.md
    python -m benchmarks.prior_ablation --variants "scripted OM" "wanderer counts" \
        --base "scripted OM" --matches 24 --episodes 10 --report wanderer_counts.md
    python -m benchmarks.prior_ablation --variants "wanderer counts" "wanderers random" \
        --base "wanderer counts" --matches 24 --episodes 10 --report wanderer_model.md
    python -m benchmarks.prior_ablation --variants "wanderer counts" "wanderer + soft counts" \
        "scripted OM, no prior" --base "wanderer counts" --coplayers nearest_stag nearest_hare \
        ppo_selfish --matches 200 --episodes 4 --report early_soft_scripted.md
    python -m benchmarks.prior_ablation --variants "wanderer counts" "scripted OM, no prior" \
        --base "wanderer counts" --coplayers random hop_selfplay --matches 100 --episodes 10 \
        --report memory_cost.md
    python -m benchmarks.prior_ablation --variants "wanderer counts" "judged, wanderers random" \
        "judged catches" "pseudo-count 3" "discount 0.8" --base "wanderer counts" --matches 24 \
        --episodes 10 --report memory_variants.md
    python -m benchmarks.prior_ablation --variants "wanderer counts" "gamma 0.99" \
        "gamma 0.99, wanderers random" "gamma 1, wanderers random" --base "wanderer counts" \
        --matches 24 --episodes 10 --report gamma.md
    python -m benchmarks.prior_ablation --variants "wanderer counts" "unoffered 0.25" \
        "unoffered 0" --base "wanderer counts" --matches 24 --episodes 10 --report unoffered.md
    python -m benchmarks.prior_ablation --variants "wanderer counts" \
        "unoffered 0, pseudo-count 3" --base "wanderer counts" --matches 24 --episodes 10 \
        --report unoffered_pseudocount.md
    python -m benchmarks.prior_ablation --variants "wanderer counts" "wanderers join 0.25" \
        "wanderers join 0.5" --base "wanderer counts" --matches 24 --episodes 10 \
        --report wanderer_join.md
    python -m benchmarks.prior_ablation --variants "wanderer counts" "wanderers join 1" \
        --base "wanderer counts" --matches 24 --episodes 10 --report wanderer_join_1.md
    python -m benchmarks.prior_ablation --variants "wanderer counts" "wanderers join 0.5" \
        "wanderers join 1" "scripted OM, no prior" --base "wanderer counts" --coplayers random \
        hop_selfplay ppo_selfish --mixes 1+3 --matches 100 --episodes 10 \
        --report wanderer_join_power.md
    python -m benchmarks.prior_ablation --variants "wanderer counts" "wanderers join 0.25" \
        --base "wanderer counts" --coplayers random hop_selfplay ppo_selfish --mixes 1+3 \
        --matches 100 --episodes 10 --report wanderer_join_025_power.md
    python -m benchmarks.prior_ablation --variants "wanderer counts" "wanderers join 0.25" \
        --base "wanderer counts" --coplayers ppo_prosocial random hop_selfplay --mixes 3+1 \
        --matches 100 --episodes 10 --report wanderer_join_025_power_3.md
    python -m benchmarks.prior_ablation --variants "wanderer counts" "wanderers join 0.25" \
        "scripted OM, no prior" --base "wanderer counts" --coplayers ppo_selfish --mixes 1+3 \
        --matches 400 --episodes 4 --report early_wanderer_join.md
    python -m benchmarks.prior_ablation --variants "wanderer counts" "scripted OM, no prior" \
        --base "wanderer counts" --coplayers nearest_stag --mixes 1+3 --matches 2500 \
        --episodes 4 --report power_nearest_stag.md
    python -m benchmarks.prior_ablation --variants "wanderer counts" "scripted OM, no prior" \
        --base "wanderer counts" --coplayers nearest_stag --mixes 3+1 --matches 2500 \
        --episodes 4 --report power_nearest_stag_3.md

SPEC's prior is the discounted goal counts normalised: one realised goal makes it exactly 0 or 1,
and no later evidence moves it. ``prior_pseudocount`` adds that many counts per goal;
``soft_goal_counts`` also counts the co-players that caught nothing, by their episode's evidence
(on top of the pseudo-count, as hop_plus has it); the variants before "scripted OM" model the
co-players with hop's learned networks, as hop_plus did until then, and every variant before
"wanderer counts" leaves ``wanderer_counts`` off, as hop_plus did until that one ("wanderers
random" plays a co-player sampled as a wanderer at random: ``wanderer_model``; "judged" judges a
catch by the moves before it: ``judge_catches``; "gamma" is the search's discount; "unoffered"
weighs the episodes without a stag hunt: ``unoffered_weight``; "wanderers join" plans a wanderer
as a stag walker at the rate it joined hop_plus's stag hunts: ``wanderer_join``). The tree
variants spend the same 32 simulations per decision as 2 x 16, over more samples of the
co-players' goals. Every variant is the shipped hop_plus with one option changed; the lineups,
seeds and co-players are those of ``adaptation_paper`` (the same matches), so its rows compare
with that report's.
Where the co-players keep one habit that a scripted hunter shares (``REFERENCES``), that hunter
plays the focal seats too, and each variant's share of its reward is shown. Writes
``benchmarks/results/paper/prior_ablation.md`` (``--report``: another name); ``--mixes 1+3`` runs
one mix only.
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

from benchmarks.adaptation import EARLY, MIXES, early_episodes, rise
from benchmarks.adaptation_paper import COPLAYERS, OUT, REFERENCES, specs
from tom_agents import make_agent, register_agent
from tom_agents.arena import play
from tom_agents.arena.report import format_ci
from tom_agents.stats import bootstrap_ci

BUDGET = {"num_trees": 2, "num_simulations": 16}  # the shipped planners' search
TREES = {"num_trees": 4, "num_simulations": 8}  # the shipped hop_plus's
NO_COUNTS = {"wanderer_counts": False}  # hop_plus before the wanderer counts
LEARNED = {**NO_COUNTS, "opponent_model": "learned"}  # hop_plus's model before the scripted one
SCRIPTED = {**NO_COUNTS, **TREES, "opponent_model": "scripted"}
COUNTED = {**SCRIPTED, "prior_pseudocount": 1.0, "wanderer_counts": True}  # hop_plus since then
VARIANTS = {  # label -> hop_plus options, each set in full (hop_plus's own changed over time)
    "SPEC prior": {**LEARNED, **BUDGET, "prior_pseudocount": 0.0},
    "pseudo-count 1": {**LEARNED, **BUDGET, "prior_pseudocount": 1.0},
    "no prior": {**LEARNED, **BUDGET, "episode_prior": False},
    "soft counts": {**LEARNED, **BUDGET, "prior_pseudocount": 1.0, "soft_goal_counts": True},
    "4 trees x 8": {**LEARNED, **TREES, "prior_pseudocount": 1.0},
    "8 trees x 4": {**LEARNED, "prior_pseudocount": 1.0, "num_trees": 8, "num_simulations": 4},
    "4 x 8, pseudo-count 0.25": {**LEARNED, **TREES, "prior_pseudocount": 0.25},
    "4 x 8, no prior": {**LEARNED, **TREES, "episode_prior": False},
    "4 x 8, soft counts": {**LEARNED, **TREES, "prior_pseudocount": 1.0, "soft_goal_counts": True},
    "scripted OM": {**SCRIPTED, "prior_pseudocount": 1.0},
    "scripted OM, no prior": {**SCRIPTED, "episode_prior": False},
    "wanderers 0.25": {**SCRIPTED, "prior_pseudocount": 1.0, "wanderer_prior": 0.25},
    "wanderers 0.05": {**SCRIPTED, "prior_pseudocount": 1.0, "wanderer_prior": 0.05},
    "wanderer counts": COUNTED,
    "wanderers random": {**COUNTED, "wanderer_model": "random"},
    "wanderer + soft counts": {**COUNTED, "soft_goal_counts": True},
    "judged catches": {**COUNTED, "judge_catches": True},
    "judged, wanderers random": {**COUNTED, "judge_catches": True, "wanderer_model": "random"},
    "pseudo-count 3": {**COUNTED, "prior_pseudocount": 3.0},
    "discount 0.8": {**COUNTED, "belief_discount": 0.8},
    "gamma 0.99": {**COUNTED, "gamma": 0.99},
    "gamma 0.99, wanderers random": {**COUNTED, "gamma": 0.99, "wanderer_model": "random"},
    "gamma 1, wanderers random": {**COUNTED, "gamma": 1.0, "wanderer_model": "random"},
    "unoffered 0.25": {**COUNTED, "unoffered_weight": 0.25},
    "unoffered 0": {**COUNTED, "unoffered_weight": 0.0},
    "unoffered 0, pseudo-count 3": {**COUNTED, "unoffered_weight": 0.0, "prior_pseudocount": 3.0},
    "wanderers join 0.25": {**COUNTED, "wanderer_join": 0.25},
    "wanderers join 0.5": {**COUNTED, "wanderer_join": 0.5},
    "wanderers join 1": {**COUNTED, "wanderer_join": 1.0},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=12)
    parser.add_argument("--episodes", type=int, default=6)
    parser.add_argument("--cache", type=Path, default=Path("runs/pretrained"))
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS)[:3])
    parser.add_argument("--base", choices=VARIANTS, default="SPEC prior", help="Δ against it")
    parser.add_argument("--coplayers", nargs="+", choices=COPLAYERS, default=COPLAYERS)
    short = {f"{n}+{4 - n}": mix for mix, n in MIXES.items()}  # "1+3": "1 focal + 3 co-players"
    parser.add_argument("--mixes", nargs="+", choices=short, default=list(short))
    parser.add_argument("--report", default="prior_ablation.md", help="file name in " + str(OUT))
    args = parser.parse_args()
    variants = {v: VARIANTS[v] for v in dict.fromkeys([args.base, *args.variants])}
    base, coplayers = args.base, args.coplayers
    mixes = {short[m]: MIXES[short[m]] for m in args.mixes}
    torch.set_num_threads(1)
    start = time.perf_counter()
    seat_specs, _ = specs(args.cache)
    for label, options in variants.items():
        register_agent(
            f"prior_{label}", partial(make_agent, "hop_plus", pretrained=True, **options)
        )
    rewards = {}
    lineups = [(m, x, v) for m in mixes for x in coplayers for v in variants]
    for mix, coplayer, label in tqdm(lineups, desc="lineups"):
        n = mixes[mix]
        lineup = [f"prior_{label}"] * n + [seat_specs.get(coplayer, coplayer)] * (4 - n)
        result = play(lineup, args.episodes, range(args.matches), progress=False)
        rewards[mix, coplayer, label] = result.rewards[:, :, :n].mean(axis=2)
    references = [(m, x) for m in mixes for x in coplayers if x in REFERENCES]
    for mix, x in references:  # the scripted hunter of the co-players' habit, in the focal seats
        n = mixes[mix]
        result = play([REFERENCES[x]] * n + [x] * (4 - n), args.episodes, range(args.matches),
                      progress=False)  # fmt: skip
        rewards[mix, x, "scripted"] = result.rewards[:, :, :n].mean(axis=2)
    others = [v for v in variants if v != base]
    lines = [
        "# hop_plus with one option changed, on the paper's game: " + " / ".join(variants),
        "",
        f"Command: `python -m benchmarks.prior_ablation {shlex.join(sys.argv[1:])}`; wall time "
        f"{(time.perf_counter() - start) / 60:.1f} min. {args.matches} matches x K = "
        f"{args.episodes} episodes per lineup, the matches of `adaptation_paper`.",
        "",
        f"Focal reward per episode over all K [95% bootstrap over matches]; Δ: paired difference "
        f"to {base}, over all K and over episodes 2..{EARLY} (where a prior can act first); rise: "
        f"episodes 2..{EARLY} minus episode 1.",
        "",
        "| mix | co-player | "
        + " | ".join(variants)
        + " | "
        + " | ".join(f"Δ {v}" for v in others)
        + " | "
        + " | ".join(f"Δ 2..{EARLY} {v}" for v in others)
        + " | "
        + " | ".join(f"rise {v}" for v in variants)
        + " |",
        "|---|---|" + "---:|" * (2 * len(variants) + 2 * len(others)),
    ]
    for mix in mixes:
        for x in coplayers:
            r = {v: rewards[mix, x, v] for v in variants}
            cells = [format_ci(*bootstrap_ci(r[v].mean(1))) for v in variants]
            cells += [format_ci(*bootstrap_ci(r[v].mean(1) - r[base].mean(1))) for v in others]
            cells += [format_ci(*bootstrap_ci(early_episodes(r[v] - r[base]))) for v in others]
            cells += [format_ci(*bootstrap_ci(rise(r[v]))) for v in variants]
            lines.append(f"| {mix.split(' + ')[0]} | {x} | " + " | ".join(cells) + " |")
    pooled = {
        v: bootstrap_ci(
            sum(
                rewards[m, x, v].mean(1) - rewards[m, x, base].mean(1)
                for m in mixes
                for x in coplayers
            )
            / (len(mixes) * len(coplayers))
        )
        for v in others
    }
    lines += ["", f"Pooled over the cells, Δ to {base}: "
              + "; ".join(f"{v} {format_ci(*ci)}" for v, ci in pooled.items()), ""]  # fmt: skip
    if references:
        lines += ["Share of a scripted hunter's reward in the same seats (the co-players' habit), "
                  "reward per episode over all K:", "",
                  "| mix | co-players | scripted | " + " | ".join(variants) + " |",
                  "|---|---|" + "---:|" * (1 + len(variants))]  # fmt: skip
        for mix, x in references:
            ref = rewards[mix, x, "scripted"].mean()
            shares = [f"{rewards[mix, x, v].mean():.2f} ({rewards[mix, x, v].mean() / ref:.0%})"
                      for v in variants]  # fmt: skip
            lines.append(
                f"| {mix.split(' + ')[0]} | {x} | {ref:.2f} | " + " | ".join(shares) + " |"
            )
        lines.append("")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / args.report).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
