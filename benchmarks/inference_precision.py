"""bf16 against fp32 inference: do the planner's decisions and its self-play reward change?

    python -m benchmarks.inference_precision            # the recorded run (about 15 minutes)
    python -m benchmarks.inference_precision --quick    # a smoke run

1. Decision agreement. Self-play episodes of HOP agents; at every decision the same prepared
   decision (state, sampled co-player goals, seed) is searched twice, with the networks in fp32
   and with a bf16 copy of the same weights, and the greedy actions (argmax of the trees' mean
   root Q) are compared. Reported: the share of identical decisions with a Wilson 95% interval,
   for (a) the ``quick`` preset's trained networks (a self-play run, trained here once and reused
   from ``--run``) at its budget and at 5 x 200, and (b) the paper's network size at 2 x 50
   (its 4-MFLOP rows make 5 x 200 take about an hour here), untrained but with random (not
   zero) output heads, since zero heads make every prior uniform and every value 0 in both.
2. Self-play reward: the trained agents play the same evaluation episodes (same layouts, fresh
   beliefs) with fp32 and with bf16 inference; the paired difference of the mean reward per
   agent, with a 95% bootstrap interval over episodes.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import print_header
from staghunt_env import GameState, StagHuntConfig, parallel_env
from tom_agents import threads
from tom_agents.loading import load_planners
from tom_agents.planner import PlannerAgent
from tom_agents.planner.agent import prepare_all
from tom_agents.planner.stag_hunt_step import search_decisions
from tom_agents.selfplay import checkpoint as selfplay_checkpoint
from tom_agents.selfplay.config import preset
from tom_agents.selfplay.evaluate import evaluate_selfplay
from tom_agents.selfplay.train import train
from tom_agents.stats import bootstrap_ci, paired_bootstrap_ci


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def trained_owners(run: Path) -> tuple[StagHuntConfig, list[PlannerAgent]]:
    """The quick preset's trained networks: the run's newest checkpoint, trained first if none."""
    if not selfplay_checkpoint.list_checkpoints(run):
        config = preset("quick")
        config.out_dir, config.name, config.eval_episodes = str(run.parent), run.name, 0
        config.workers = 0  # in this process, as the recorded run trained: the same games
        train(config, resume=run.exists(), overwrite=run.exists())
    return load_planners(selfplay_checkpoint.list_checkpoints(run)[-1], device="cpu")


def twin(owner: PlannerAgent, device: str = "cpu", **changes) -> PlannerAgent:
    """A planner with the same weights and options, but ``changes`` (e.g. the inference dtype)."""
    options = {**dataclasses.asdict(owner.options), **changes}
    other = PlannerAgent(owner.config, device=device, **options)
    other.networks.load_state_dict(owner.networks.state_dict())
    return other


def agreement(owner, other, budget, decisions: int, seed: int) -> tuple[int, int]:
    """(identical greedy decisions, decisions) of the same prepared decisions searched with
    ``owner``'s networks and with ``other``'s (the same weights, another dtype or device).
    Every seat plays with ``owner``'s networks; a step's decisions are searched together."""
    config = owner.config
    env = parallel_env(**config.to_dict())
    same = total = episode = 0
    while total < decisions:
        observations, infos = env.reset(seed=seed + episode)
        players = {
            a: owner.follower(seed + 100 * episode + i, **budget, greedy=True)
            for i, a in enumerate(env.possible_agents)
        }
        for a, p in players.items():
            p.reset(a)
        while env.agents:
            live = list(env.agents)
            prepared = prepare_all(
                [players[a] for a in live],
                [observations[a] for a in live],
                [infos[a] for a in live],
                [None] * len(live),
            )
            searched = [(a, d) for a, d in zip(live, prepared) if d is not None]
            actions = {a: players[a].act_at_random(observations[a]["action_mask"]) for a in live}
            if searched:
                results = {}
                for name, nets in (("reference", owner.networks), ("compared", other.networks)):
                    results[name] = search_decisions(
                        config,
                        players[live[0]].options.search,
                        GameState.concatenate([d.state for _, d in searched]),
                        np.array([players[a].seat.focal for a, _ in searched]),
                        np.stack([d.goals for _, d in searched]),
                        np.array([d.seed for _, d in searched], dtype=np.uint64),
                        nets.evaluate_policy_value,
                        nets.opponents,
                    )
                q = {name: result.q for name, result in results.items()}
                for j, (a, d) in enumerate(searched):
                    legal = np.where(d.mask > 0, 0.0, -np.inf)
                    greedy = [int(np.argmax(legal + q[k][j].mean(0))) for k in q]
                    same += greedy[0] == greedy[1]
                    total += 1
                    actions[a] = players[a].finish(
                        d, q["reference"][j], results["reference"].visits[j]
                    )
            observations, _, _, _, infos = env.step(actions)
        episode += 1
    return same, total


def random_heads(owner: PlannerAgent) -> PlannerAgent:
    """Kaiming-random output heads, so that priors and values are not the same in any format."""
    gen = torch.Generator().manual_seed(0)
    nets = [owner.networks.policy_value, *owner.networks.opponent_nets]
    with torch.no_grad():
        for head in (nets[0].policy, nets[0].value, *(n.actor for n in nets[1:])):
            head.weight.copy_(
                torch.randn(head.weight.shape, generator=gen) * (2 / head.in_features) ** 0.5
            )
    return owner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--run", default="runs/precision_quick", help="the trained quick run")
    parser.add_argument("--decisions", type=int, default=1000, help="decisions per comparison")
    parser.add_argument("--episodes", type=int, default=192, help="evaluation episodes")
    parser.add_argument("--device", default="cpu", help="also compare this device with the CPU")
    args = parser.parse_args()
    threads.configure()
    decisions, episodes = (40, 16) if args.quick else (args.decisions, args.episodes)
    print_header(
        "inference_precision: python -m benchmarks.inference_precision"
        + (" --quick" if args.quick else "")
    )
    config, owners = trained_owners(Path(args.run))
    if len(owners) != 1:
        raise SystemExit(f"{args.run}: expected one shared network (the quick preset)")
    trained, paper = owners[0], random_heads(PlannerAgent(StagHuntConfig(), seed=0, device="cpu"))
    small = {
        "num_trees": trained.options.num_trees,
        "num_simulations": trained.options.num_simulations,
    }
    large = {"num_trees": 5, "num_simulations": 200}
    paper_budget = {"num_trees": 2, "num_simulations": 50}  # paper networks: 4 MFLOP a row
    bf16 = twin(trained, inference_dtype="bfloat16")
    cases = [  # (what, reference networks, compared networks, budget)
        ("quick preset, trained, {num_trees}x{num_simulations}: cpu bf16", trained, bf16, small),
        ("quick preset, trained, {num_trees}x{num_simulations}: cpu bf16", trained, bf16, large),
        (
            "paper size, random heads, {num_trees}x{num_simulations}: cpu bf16",
            paper,
            twin(paper, inference_dtype="bfloat16"),
            paper_budget,
        ),
    ]
    if args.device != "cpu":
        for dtype in ("float32", "bfloat16"):
            on_device = twin(trained, args.device, inference_dtype=dtype)
            what = (
                f"quick preset, trained, {{num_trees}}x{{num_simulations}}: {args.device} {dtype}"
            )
            cases.append((what, trained, on_device, large))
    print(
        "\n| networks, budget: against cpu fp32 | identical greedy decisions | share | 95% interval |"
    )
    print("|---|---:|---:|---|")
    for what, reference, compared, budget in cases:
        n = decisions // 4 if args.quick and budget is not small else decisions
        same, total = agreement(reference, compared, budget, n, seed=1)
        low, high = wilson(same, total)
        row = f"| {what.format(**budget)} | {same} / {total} | {same / total:.3f} | [{low:.3f}, {high:.3f}] |"
        print(row, flush=True)
    rewards = {
        name: np.array(evaluate_selfplay(config, nets, episodes))
        for name, nets in (("fp32", [trained]), ("bf16", [bf16]))
    }
    mean, low, high = paired_bootstrap_ci(rewards["fp32"], rewards["bf16"])
    print(
        f"\nself-play reward per agent, {episodes} evaluation episodes of the trained quick agents:"
    )
    for name, r in rewards.items():
        print("  {}: {:.3f} [{:.3f}, {:.3f}]".format(name, *bootstrap_ci(r)))
    print(f"  bf16 - fp32 (paired): {mean:+.3f} [{low:+.3f}, {high:+.3f}]")


if __name__ == "__main__":
    main()
