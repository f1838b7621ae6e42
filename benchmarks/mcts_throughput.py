"""MCTS throughput of the HOP planner's search, against its forward bound and the naive design.

    python -m benchmarks.mcts_throughput            # the full run recorded in RESULTS.md
    python -m benchmarks.mcts_throughput --quick    # a smoke run (20 simulations, B <= 64)

The real ``hop`` agent (untrained, learned goal-conditioned opponent model), 4 players on the
default 8x8, SPEC budget of 5 trees x 200 simulations. Decisions: the games of
``BatchedStagHunt(256, seed=2024)`` after 4 random legal joint steps, a random live focal player
and random co-player goals each; batch B takes the first B.

* search@B: ``search_decisions`` on B decisions at once, as ``act_batch`` does. sims/s =
  B x 5 x 200 / median wall time of 3 repeats (after one instrumented warm-up). B = 1 is the
  first 64 decisions searched one by one (their costs differ by up to ~30x).
* bound@B (a): exactly the network calls of the instrumented search (same batch sizes, order and
  entry points), replayed on random inputs with no tree and no game: the speed the forwards
  alone allow. search/bound is the share of it the search reaches.
* naive (b): ``benchmarks.reference.naive_mcts``, checked to give the search's visits and Q,
  then timed on the B = 1 decisions, each paired with the search of the same decision (same
  load). Its sims/s compares with every B: B decisions take it B times its mean latency.
* where the time goes: the instrumented search's forwards (timed through the callables it is
  given), the rest of the stag-hunt model (rules, observe, gathers), the tree.

Goals: search/bound >= 0.6 and search/naive >= 20x at B >= 64; naive latency / ours >= 3x at B=1.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable
from functools import partial
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

import tom_agents
from benchmarks.common import markdown_table, median_time, print_header
from benchmarks.reference.naive_mcts import NaiveNets, naive_search, random_decisions
from staghunt_env import GameState
from staghunt_env.spec import NUM_ACTIONS, STAY
from tom_agents.planner.stag_hunt_step import StagHuntModel, search_decisions
from tom_agents.search import SearchSettings, search

POOL_SEED, RANDOM_STEPS = 2024, 4
GOAL_BOUND, GOAL_NAIVE, GOAL_LATENCY = 0.6, 20.0, 3.0


@dataclasses.dataclass
class Decisions:
    """Root states, deciding players, co-players' goals per tree, seeds."""

    roots: GameState
    focal: np.ndarray
    goals: np.ndarray
    seeds: np.ndarray

    def subset(self, index: Any) -> Decisions:
        index = np.atleast_1d(index)
        return Decisions(
            self.roots.select(index), self.focal[index], self.goals[index], self.seeds[index]
        )


def make_decisions(batch: int, seed: int, num_trees: int) -> Decisions:
    return Decisions(*random_decisions(batch, seed, seed + 1, num_trees, RANDOM_STEPS))


def run_search(nets, settings: SearchSettings, d: Decisions) -> Any:
    return search_decisions(
        nets.config, settings, d.roots, d.focal, d.goals, d.seeds,
        nets.evaluate_policy_value, nets.opponents,
    )  # fmt: skip


@dataclasses.dataclass
class Instrumented:
    """One search's network calls, in order (kind, (shape, dtype) per input, present), and times."""

    wall: float = 0.0
    calls: list[tuple] = dataclasses.field(default_factory=list)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)

    def timed(self, name: str, fn: Callable, kind: str | None = None) -> Callable:
        def call(*args):
            if kind is not None:
                sig = tuple((np.shape(a), np.asarray(a).dtype.str) for a in args[:3])
                self.calls.append((kind, sig, args[3] if len(args) > 3 else None))
            t0 = time.perf_counter()
            out = fn(*args)
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
            return out

        return call

    def rows(self, kind: str) -> tuple[int, int]:
        """(calls, rows) of one kind of network call."""
        sizes = [sig[0][0][0] for k, sig, _ in self.calls if k == kind]
        return len(sizes), sum(sizes)


def instrumented_search(nets, settings: SearchSettings, d: Decisions) -> Instrumented:
    inst = Instrumented()
    pv = inst.timed("policy-value forwards", nets.evaluate_policy_value, "pv")
    probs = inst.timed("opponent forwards", nets.opponents.probs, "opp")
    opp = SimpleNamespace(num_goals=nets.opponents.num_goals, probs=probs)  # injected, not patched
    t0 = time.perf_counter()
    model = StagHuntModel(
        nets.config, settings, d.roots, d.focal, d.goals, d.seeds, [pv], [opp],
        np.zeros(len(d.focal), dtype=np.int64),
    )  # fmt: skip
    root = inst.timed("stag-hunt model", model.root)()
    search(root, inst.timed("stag-hunt model", model), settings, model.seeds)
    inst.wall = time.perf_counter() - t0
    forwards = inst.seconds["policy-value forwards"] + inst.seconds.get("opponent forwards", 0.0)
    inst.seconds["stag-hunt model"] -= forwards  # the model's own time: rules, observe, gathers
    inst.seconds["tree (search.py: selection, backup, bookkeeping)"] = inst.wall - sum(
        inst.seconds.values()
    )
    return inst


def replay_forwards(nets, inst: Instrumented, seed: int) -> float:
    """Seconds of exactly ``inst``'s network calls, in order, on random inputs of their shapes."""
    rng = np.random.default_rng(seed)
    fns = {"pv": nets.evaluate_policy_value, "opp": nets.opponents.probs}
    inputs: dict[tuple, tuple] = {}
    total = 0.0
    for kind, sig, present in inst.calls:
        if sig not in inputs:
            (g_shape, g_dtype), (t_shape, t_dtype), (m_shape, m_dtype) = sig
            masks = (rng.random(m_shape) < 0.8) | (np.arange(NUM_ACTIONS) == STAY)
            inputs[sig] = (
                (rng.random(g_shape) < 0.15).astype(g_dtype),
                rng.integers(0, nets.config.max_cycles, t_shape).astype(t_dtype),
                masks.astype(m_dtype),
            )
        args = inputs[sig] if present is None else (*inputs[sig], present)
        t0 = time.perf_counter()
        fns[kind](*args)
        total += time.perf_counter() - t0
    return total


def check_naive(nets, settings: SearchSettings, d: Decisions) -> str:
    """The naive reference (padded calls) gives the search's visit counts and root Q."""
    real = run_search(nets, settings, d)
    naive = NaiveNets(nets.policy_value, nets.opponents.nets, padded=True)
    for i in range(len(d.focal)):
        q, visits = naive_search(
            nets.config, settings, d.roots, i, int(d.focal[i]), d.goals[i], d.seeds[i], naive
        )
        if not (np.array_equal(visits, real.visits[i]) and np.array_equal(q, real.q[i])):
            raise AssertionError(f"naive reference differs from the search on decision {i}")
    return (
        f"naive reference check: {len(d.focal)} decisions x {settings.num_trees} trees x "
        f"{settings.num_simulations} sims: identical visit counts and root Q"
    )


def measure_single(nets, settings: SearchSettings, pool: Decisions, count: int) -> dict:
    """B = 1: decisions one by one, the naive and the search interleaved on each."""
    naive_nets = NaiveNets(nets.policy_value, nets.opponents.nets)
    sims = settings.num_trees * settings.num_simulations
    naive, ours, bounds = [], [], []
    run_search(nets, settings, pool.subset(0))  # warm-up
    for i in range(count):
        one = pool.subset(i)
        args = (nets.config, settings, pool.roots, i, int(pool.focal[i]), pool.goals[i])
        naive.append(median_time(partial(naive_search, *args, pool.seeds[i], naive_nets), 1, 0))
        inst = instrumented_search(nets, settings, one)
        ours.append(median_time(lambda one=one: run_search(nets, settings, one), 1, 0))
        bounds.append(replay_forwards(nets, inst, seed=i))
    ratios = [n / o for n, o in zip(naive, ours)]
    print(
        f"B=1, {count} decisions one by one: naive {sum(naive):.2f} s, search {sum(ours):.2f} s,"
        f" its forwards replayed {sum(bounds):.2f} s; paired naive/search median "
        f"{statistics.median(ratios):.1f}x ({min(ratios):.1f}-{max(ratios):.1f})",
        flush=True,
    )
    return {
        "B": 1,
        "latency s": statistics.fmean(ours),
        "search sims/s": count * sims / sum(ours),
        "bound sims/s": count * sims / sum(bounds),
        "naive sims/s": count * sims / sum(naive),
        "naive latency s": statistics.fmean(naive),
        "paired ratio": statistics.median(ratios),
    }


def measure_batch(nets, settings: SearchSettings, pool: Decisions, batch: int, repeats: int):
    d = pool.subset(np.arange(batch))
    inst = instrumented_search(nets, settings, d)  # also the warm-up
    wall = median_time(lambda: run_search(nets, settings, d), repeats, warmup=0)
    bound = statistics.median(replay_forwards(nets, inst, seed=r) for r in range(repeats))
    sims = batch * settings.num_trees * settings.num_simulations
    pv, opp = inst.rows("pv"), inst.rows("opp")
    print(
        f"B={batch}: search {wall:.3f} s ({sims / wall:,.0f} sims/s), forwards replayed "
        f"{bound:.3f} s; {pv[0]} PV calls / {pv[1]} rows, {opp[0]} opponent calls / {opp[1]} rows",
        flush=True,
    )
    row = {
        "B": batch,
        "latency s": wall,
        "search sims/s": sims / wall,
        "bound sims/s": sims / bound,
    }
    return row, inst


def forward_costs(nets) -> dict[str, Any]:
    """Microseconds per row of one forward by batch size (opponents: per row of one net)."""
    rng = np.random.default_rng(0)
    k, shape = nets.config.num_players - 1, (*nets.config.grid_size, nets.config.num_channels)
    cells: dict[str, Any] = {}
    for rows in (5, 64, 300, 1280):
        g = (rng.random((rows, *shape)) < 0.15).astype(np.int8)
        t, m = np.full(rows, 3, dtype=np.int32), np.ones((rows, NUM_ACTIONS), dtype=np.int8)
        gk, mk = np.repeat(g[:, None], k, axis=1), np.repeat(m[:, None], k, axis=1)
        pv = median_time(lambda g=g, t=t, m=m: nets.evaluate_policy_value(g, t, m), 5)
        opp = median_time(lambda gk=gk, t=t, mk=mk: nets.opponents.probs(gk, t, mk), 5)
        cells[f"PV, batch {rows}"] = 1e6 * pv / rows
        cells[f"opp., batch {rows}"] = 1e6 * opp / (rows * k)
    return cells


def verdict(value: float, goal: float) -> str:
    return f"{value:.2f} (goal >= {goal}): {'MET' if value >= goal else 'NOT MET'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 sims, B <= 64")
    parser.add_argument("--simulations", type=int, default=None, help="per tree (SPEC: 200)")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per B (3)")
    parser.add_argument("--naive-decisions", type=int, default=None, help="B=1 decisions (64)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)  # a shared 2-core box: one thread, comparable runs
    print_header("MCTS throughput")
    start = time.perf_counter()

    nets = tom_agents.make_agent("hop", seed=0, device="cpu").networks
    sims = args.simulations or (20 if args.quick else 200)
    settings = SearchSettings(num_simulations=sims)
    batch_sizes = args.batch_sizes or ((16, 64) if args.quick else (16, 64, 256))
    print(f"hop agent, untrained; {settings}; batch sizes 1, {batch_sizes}", flush=True)
    pool = make_decisions(max(*batch_sizes, 64), POOL_SEED, settings.num_trees)
    check = make_decisions(2, seed=5, num_trees=settings.num_trees)
    print(check_naive(nets, dataclasses.replace(settings, num_simulations=min(sims, 60)), check))

    single = measure_single(nets, settings, pool, args.naive_decisions or (4 if args.quick else 64))
    repeats = args.repeats or (1 if args.quick else 3)
    rows, insts = [single], []
    for batch in batch_sizes:
        row, inst = measure_batch(nets, settings, pool, batch, repeats)
        rows.append(row)
        insts.append(inst)
    naive_sps = single["naive sims/s"]
    for row in rows:
        row["search / bound"] = row["search sims/s"] / row["bound sims/s"]
        row["naive sims/s"] = naive_sps
        row["naive time for B decisions s"] = row["B"] * single["naive latency s"]
        row["search / naive"] = row["search sims/s"] / naive_sps
    hidden = ("naive latency s", "paired ratio")
    print("\n" + markdown_table([{k: v for k, v in r.items() if k not in hidden} for r in rows]))
    print("\nforward cost per row, microseconds (median of 5):")
    print(markdown_table([forward_costs(nets)]))

    print("\nGoals:")
    for row in rows[1:]:
        if row["B"] >= 64:
            print(
                f"- B={row['B']}: search/bound {verdict(row['search / bound'], GOAL_BOUND)}; "
                f"search/naive {verdict(row['search / naive'], GOAL_NAIVE)}"
            )
    print(f"- B=1: naive latency / ours, paired {verdict(single['paired ratio'], GOAL_LATENCY)}")
    at = next((k for k, r in enumerate(rows[1:]) if r["B"] >= 64), len(insts) - 1)
    big = insts[at]
    print(f"\nwhere the time goes, the instrumented B={rows[1 + at]['B']} search:")
    parts = sorted(big.seconds.items(), key=lambda kv: -kv[1])
    print(markdown_table([{"part": k, "s": v, "share %": 100 * v / big.wall} for k, v in parts]))
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
