"""Self-play throughput at the paper's search budget, beside a naive reference of the original design.

    python -m benchmarks.selfplay_throughput            # the recorded run (about 8 minutes)
    python -m benchmarks.selfplay_throughput --quick    # a smoke run with a small budget

Measures, in one run on this machine:
  * ours: ``tom_agents.selfplay`` playing G games at once (every seat a HOP agent with the SPEC
    networks, 5 trees x 200 simulations, 4 players, 8x8), env steps/s and simulations/s;
  * the naive reference of the original design (``benchmarks.reference.naive_mcts``: Python node
    objects, a deep-copied env per node, batch-1 network calls), one game, each agent's decision
    searched on its own, at the same budget;
  * the time split of one paper-sized iteration (3000 agent steps of search, 15 SGD passes over
    3000 samples in minibatches of 1024, opponent-model updates of 1000 steps x 15 epochs x 512):
    search extrapolated from the measured agent-steps/s, learning and opponent updates timed on
    synthetic batches of the paper's sizes.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import numpy as np
import torch

import staghunt_env
from benchmarks.common import print_header
from benchmarks.reference.naive_mcts import NaiveNets, naive_search
from tom_agents.planner import PlannerAgent
from tom_agents.search import SearchSettings
from tom_agents.selfplay.config import preset
from tom_agents.selfplay.learner import train_policy_value
from tom_agents.selfplay.train import Trainer


def ours(games: int, env_steps: int, settings: SearchSettings) -> tuple[float, float, float]:
    """(env steps/s, agent steps/s, simulations/s) of the trainer's rollout, G games at once."""
    config = preset("paper")
    config.num_games = games
    config.planner = dataclasses.replace(
        config.planner, num_trees=settings.num_trees, num_simulations=settings.num_simulations
    )
    trainer = Trainer(config)
    rollout = trainer.rollout
    rollout.collect(1)  # warm-up: numba and torch first calls
    collected = rollout.collect(env_steps * games * 3)  # about env_steps steps of every game
    return (
        collected.env_steps / collected.seconds,
        collected.agent_steps / collected.seconds,
        collected.simulations / collected.seconds,
    )


def naive(env_steps: int, settings: SearchSettings, seed: int = 0) -> tuple[float, float]:
    """(env steps/s, agent steps/s) of one game whose agents each search alone, naive design."""
    env = staghunt_env.parallel_env()
    observations, infos = env.reset(seed=seed)
    agents = {
        a: PlannerAgent(env.config, seed=i, device="cpu") for i, a in enumerate(env.possible_agents)
    }
    nets = {
        a: NaiveNets(agent.networks.policy_value, agent.networks.opponents.nets)
        for a, agent in agents.items()
    }
    for a, agent in agents.items():
        agent.reset(a)
    rng = np.random.default_rng(seed)
    steps = decisions = 0
    start = time.perf_counter()
    while steps < env_steps:
        if not env.agents:
            observations, infos = env.reset()
            for a, agent in agents.items():
                agent.reset(a)
        actions = {}
        for a in env.agents:
            decision = agents[a].prepare(observations[a], infos[a])
            if decision is None:
                actions[a] = int(rng.choice(np.flatnonzero(observations[a]["action_mask"])))
                continue
            q, _ = naive_search(
                env.config,
                settings,
                decision.state,
                0,
                agents[a].seat.focal,
                decision.goals,
                decision.seed,
                nets[a],
            )
            actions[a] = agents[a].finish(decision, q)
            decisions += 1
        observations, _, _, _, infos = env.step(actions)
        steps += 1
    seconds = time.perf_counter() - start
    return steps / seconds, decisions / seconds


def iteration_split(search_agent_steps_per_s: float, repeats: int) -> dict[str, float]:
    """Seconds of one paper-sized iteration: search (extrapolated), learning, opponent updates."""
    config = staghunt_env.parallel_env().config
    agent = PlannerAgent(config, seed=0, device="cpu")
    paper = preset("paper")
    rng = np.random.default_rng(0)
    h, w = config.grid_size
    batch = {
        "grid": rng.integers(0, 2, (paper.steps_per_iteration, h, w, config.num_channels)).astype(
            np.int8
        ),
        "t": rng.integers(0, config.max_cycles, paper.steps_per_iteration),
        "mask": np.ones((paper.steps_per_iteration, 7), dtype=np.int8),
        "pi": rng.dirichlet(np.ones(7), paper.steps_per_iteration).astype(np.float32),
        "z": rng.random(paper.steps_per_iteration).astype(np.float32),
    }
    learn = []
    for _ in range(repeats):
        start = time.perf_counter()
        train_policy_value(agent, batch, paper.sgd_iterations, paper.minibatch)
        learn.append(time.perf_counter() - start)
    buffer = [
        (
            batch["grid"][i],
            int(batch["t"][i]),
            batch["mask"][i],
            np.eye(7, dtype=bool)[i % 7],
            i % 2,
        )
        for i in range(paper.planner.opponent_buffer_size)
    ]
    opponent = []
    for _ in range(repeats):
        start = time.perf_counter()
        agent.train_opponent(0, buffer)
        opponent.append(time.perf_counter() - start)
    # Every seat's network learns (4 of each), and each HOP agent has 3 opponent models whose
    # buffers fill at about the rate its co-players' steps arrive; count one update per model.
    n = config.num_players
    return {
        "search": paper.steps_per_iteration / search_agent_steps_per_s,
        "learning": n * statistics.median(learn),
        "opponent_updates": n * (n - 1) * statistics.median(opponent),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small budget, for a smoke run")
    parser.add_argument("--games", type=int, default=16, help="games played at once by ours")
    args = parser.parse_args()
    torch.set_num_threads(1)
    settings = SearchSettings(num_trees=5, num_simulations=200)
    env_steps, naive_steps, repeats = 4, 3, 3
    if args.quick:
        settings = SearchSettings(num_trees=2, num_simulations=10)
        env_steps, naive_steps, repeats = 2, 2, 1
    print_header(
        "selfplay_throughput: python -m benchmarks.selfplay_throughput"
        + (" --quick" if args.quick else "")
    )
    print(
        f"budget: {settings.num_trees} trees x {settings.num_simulations} simulations, 4 players, 8x8"
    )
    ours_rates = [ours(args.games, env_steps, settings) for _ in range(repeats)]
    ours_env = statistics.median(r[0] for r in ours_rates)
    ours_agent = statistics.median(r[1] for r in ours_rates)
    ours_sims = statistics.median(r[2] for r in ours_rates)
    naive_rates = [naive(naive_steps, settings, seed=s) for s in range(repeats)]
    naive_env = statistics.median(r[0] for r in naive_rates)
    naive_agent = statistics.median(r[1] for r in naive_rates)
    print(
        f"ours, {args.games} games at once: {ours_env:.3f} env steps/s, "
        f"{ours_agent:.2f} agent steps/s, {ours_sims:,.0f} simulations/s (median of {repeats})"
    )
    print(
        f"naive reference, 1 game:   {naive_env:.3f} env steps/s, {naive_agent:.2f} agent "
        f"steps/s (median of {repeats})"
    )
    ratio = ours_env / naive_env
    print(
        f"ratio ours / naive (env steps/s): {ratio:.1f}x (goal >= 10x: {'met' if ratio >= 10 else 'NOT met'})"
    )
    split = iteration_split(ours_agent, repeats)
    total = sum(split.values())
    print("one paper-sized iteration (3000 agent steps), seconds:")
    for name, seconds in split.items():
        print(f"  {name:17s} {seconds:9.1f}  ({100 * seconds / total:.1f}%)")


if __name__ == "__main__":
    main()
