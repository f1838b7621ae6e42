"""Self-play throughput at the paper's search budget, with each speed-up on and off in one run.

    python -m benchmarks.selfplay_throughput                  # the recorded run (~10 minutes)
    python -m benchmarks.selfplay_throughput --busy           # beside a process busy on a core
    python -m benchmarks.selfplay_throughput --preset quick   # the quick preset's small networks
    python -m benchmarks.selfplay_throughput --quick          # a smoke run with a small budget

The workload: ``tom_agents.selfplay``'s rollout, G games at once, every seat a HOP agent with its
own SPEC networks (16/32/32 channels, 512 units), 5 trees x 200 simulations, 4 players, 8x8
(``--preset quick``: that preset's game, networks, budget and shared network). The changes, each
measured alone on top of "before", and together:

  * perception batched: one opponent-model forward per network per step for all agents and games
    (off: each agent's perception calls the networks on its own, as before);
  * bf16 inference (``inference_dtype="bfloat16"``);
  * both cores: two Ray self-play actors of one thread each, instead of one process (measured
    with perception batched: the actors run the package's code; compare with that row).

Also printed: the time split of one paper-sized iteration (3000 agent steps of search, 15 SGD
passes over 3000 samples in minibatches of 1024, opponent-model updates of 1000 steps x 15
epochs x 512), the search extrapolated from the fastest configuration measured here.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import statistics
import time
from collections.abc import Iterator

import numpy as np
import ray

import staghunt_env
from benchmarks.common import cpu_burner, print_header
from tom_agents import threads
from tom_agents.planner import PlannerAgent
from tom_agents.planner import agent as planner_agent
from tom_agents.planner import seat as planner_seat
from tom_agents.selfplay.config import preset
from tom_agents.selfplay.learner import train_policy_value
from tom_agents.selfplay.train import Trainer
from tom_agents.selfplay.workers import collect_on_workers, start_workers

RECORDED_BEFORE = 3.571  # env steps/s at this budget, 16 games (benchmarks/RESULTS.md, 2026-11-24)


@dataclasses.dataclass(frozen=True)
class Setup:
    """One configuration of the speed-ups."""

    name: str
    batched_perception: bool = False
    dtype: str = "float32"
    workers: int = 0


SETUPS = [
    Setup("before: none of the changes"),
    Setup("perception batched", batched_perception=True),
    Setup("bf16 inference", dtype="bfloat16"),
    Setup("perception batched + both cores (2 actors)", True, workers=2),
    Setup("perception batched + bf16", True, "bfloat16"),
    Setup("perception batched + bf16 + both cores", True, "bfloat16", workers=2),
]


@contextlib.contextmanager
def perception(batched: bool) -> Iterator[None]:
    """Off: each seat's perception makes its own opponent-model call (the code before)."""
    if batched:
        yield
        return

    def one_by_one(seats, looks, models):
        return [
            planner_seat.perceive_all([s], [lk], [m])[0] for s, lk, m in zip(seats, looks, models)
        ]

    planner_agent.perceive_all = one_by_one
    try:
        yield
    finally:
        planner_agent.perceive_all = planner_seat.perceive_all


def measure(setup: Setup, args: argparse.Namespace, env_steps: int, budget: dict) -> float:
    """Env steps/s of G self-play games at this budget under ``setup`` (after a warm-up)."""
    config = preset(args.preset)
    games = config.num_games = args.games
    config.workers, config.progress, config.device = setup.workers, False, args.device
    config.planner = dataclasses.replace(config.planner, **budget, inference_dtype=setup.dtype)
    trainer = Trainer(config)
    agent_steps = env_steps * games * 4
    with perception(setup.batched_perception):
        if setup.workers:
            workers = start_workers(config, config.seed)
            collect_on_workers(workers, trainer.owners, setup.workers)  # warm-up
            collected, _ = collect_on_workers(workers, trainer.owners, agent_steps)
            for worker in workers:
                ray.kill(worker)
        else:
            trainer.rollout.collect(1)  # warm-up: numba, torch and tracing first calls
            collected = trainer.rollout.collect(agent_steps)
    return collected.env_steps / collected.seconds


def iteration_split(search_agent_steps_per_s: float) -> dict[str, float]:
    """Seconds of one paper-sized iteration: search (extrapolated), learning, opponent updates."""
    config = staghunt_env.parallel_env().config
    agent = PlannerAgent(config, seed=0, device="cpu")
    paper = preset("paper")
    rng = np.random.default_rng(0)
    n_steps, (h, w) = paper.steps_per_iteration, config.grid_size
    grid = rng.integers(0, 2, (n_steps, h, w, config.num_channels)).astype(np.int8)
    batch = {
        "grid": grid,
        "t": rng.integers(0, config.max_cycles, n_steps),
        "mask": np.ones((n_steps, 7), dtype=np.int8),
        "pi": rng.dirichlet(np.ones(7), n_steps).astype(np.float32),
        "z": rng.random(n_steps).astype(np.float32),
    }
    start = time.perf_counter()
    train_policy_value(agent, batch, paper.sgd_iterations, paper.minibatch)
    learn = time.perf_counter() - start
    one_hot = np.eye(7, dtype=bool)
    size = paper.planner.opponent_buffer_size
    buffer = [
        (grid[i], int(batch["t"][i]), batch["mask"][i], one_hot[i % 7], i % 2) for i in range(size)
    ]
    start = time.perf_counter()
    agent.train_opponent(0, buffer)
    opponent = time.perf_counter() - start
    # Every seat's network learns (4 of each), and each HOP agent has 3 opponent models.
    n = config.num_players
    return {
        "search": paper.steps_per_iteration / search_agent_steps_per_s,
        "learning": n * learn,
        "opponent_updates": n * (n - 1) * opponent,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small budget, for a smoke run")
    parser.add_argument("--busy", action="store_true", help="beside a process busy on one core")
    parser.add_argument("--games", type=int, default=16, help="games played at once")
    parser.add_argument("--repeats", type=int, default=2, help="measurements per setup")
    parser.add_argument("--device", default="cpu", help="where the networks run (cpu, cuda)")
    parser.add_argument("--preset", default="paper", choices=("paper", "quick"))
    args = parser.parse_args()
    # Ray's actors play on the CPU: on a GPU the "both cores" setups say nothing.
    setups = [s for s in SETUPS if args.device == "cpu" or not s.workers]
    threads.configure()  # the project's default: one torch and one numba thread per process
    planner = preset(args.preset).planner
    budget = {"num_trees": planner.num_trees, "num_simulations": planner.num_simulations}
    env_steps = 3 if args.preset == "paper" else 40
    if args.quick:
        budget, env_steps = {"num_trees": 2, "num_simulations": 10}, 2
    print_header(
        "selfplay_throughput: python -m benchmarks.selfplay_throughput"
        + (" --quick" if args.quick else "")
        + (" --busy" if args.busy else "")
        + (f" --preset {args.preset}" if args.preset != "paper" else "")
    )
    print(
        f"preset {args.preset}: {budget['num_trees']} trees x {budget['num_simulations']} "
        f"simulations, {args.games} games at once, networks on {args.device}"
    )
    with cpu_burner() if args.busy else contextlib.nullcontext():
        rates = {s.name: [] for s in setups}
        for _ in range(args.repeats):  # interleaved: a drift of the machine hits every setup
            for setup in setups:
                rate = measure(setup, args, env_steps, budget)
                print(f"  {setup.name}: {rate:.3f} env steps/s", flush=True)
                rates[setup.name].append(rate)
        ray.shutdown()
        medians = {name: statistics.median(r) for name, r in rates.items()}
        before = medians[setups[0].name]
        print(f"\n| setup | env steps/s (median of {args.repeats}) | runs | x before |")
        print("|---|---:|---|---:|")
        for name, r in rates.items():
            runs = ", ".join(f"{x:.2f}" for x in r)
            print(f"| {name} | {medians[name]:.3f} | {runs} | {medians[name] / before:.2f}x |")
        best = medians[setups[-1].name]
        print(f"\nall / before, this run: {best / before:.2f}x")
        if not args.quick and args.preset == "paper" and args.device == "cpu":
            goal = "met" if best >= 3 * RECORDED_BEFORE else "NOT met"
            print(
                f"all / the recorded {RECORDED_BEFORE} env steps/s: "
                f"{best / RECORDED_BEFORE:.2f}x (goal >= 3x: {goal})"
            )
        split = iteration_split(max(medians.values()) * 4)
    total = sum(split.values())
    print("\none paper-sized iteration (3000 agent steps) at the fastest setting, seconds:")
    for name, seconds in split.items():
        print(f"  {name:17s} {seconds:9.1f}  ({100 * seconds / total:.1f}%)")


if __name__ == "__main__":
    main()
