"""Environment throughput of ``staghunt_env`` beside the naive original design and PettingZoo anchors.

    python -m benchmarks.env_throughput            # the full run recorded in RESULTS.md
    python -m benchmarks.env_throughput --quick    # a short smoke run

Memory and the physical bound are ``benchmarks.env_memory``; the cProfile breakdowns are
``benchmarks.env_profile``.

Lines measured (4 players, 8x8, default configuration, random LEGAL play sampled from the
action masks):

* ``parallel``: ``staghunt_env.parallel_env()``; ``aec``: ``staghunt_env.env()`` (wrapped);
* ``kernels@B=1``: the two numba calls a parallel-env step makes (``rules.step`` and
  ``observe.observe`` on a batch of one), without the PettingZoo wrapping;
* ``batched@B``: ``BatchedStagHunt(B)`` for B = 1, 64, 1024, 4096, observations and masks
  included; "env" time is ``step()`` alone, "env + sampler" adds the vectorized mask sampler;
* ``naive``: ``benchmarks.reference.NaiveStagHunt``, the ORIGINAL design (one Python object
  per game, per-agent loops over lists and dicts, a numpy observation per agent per call, a
  ``copy.deepcopy`` of the state every step). It is checked against the real env, transition by
  transition, before it is timed, so the ratio compares designs playing the same game;
* anchors, first-party PettingZoo envs: ``pettingzoo.classic.rps_v2`` and
  ``mpe2.simple_spread_v3`` (parallel API, uniform random actions, no masks).

"env" columns count only the time inside the environment's own calls; "env + sampler" columns
the whole loop. An env-step is one joint step of one game; agent-steps count the live agents
stepped. Each figure is the median of the repeats, run round-robin over the lines so that
other processes load every line alike; "spread" is (max - min) / median of the env figure,
"CPU share" this thread's CPU time over the wall time (below 100%: another process had the core).
"""

from __future__ import annotations

import argparse
import random
import sys
import warnings

import staghunt_env
from benchmarks.common import load_average, markdown_table, print_header
from benchmarks.env_loops import (
    AECLoop,
    BatchedLoop,
    KernelLoop,
    Loop,
    ParallelLoop,
    Row,
    anchor_loops,
    legal_sampler,
    measure_all,
)
from benchmarks.reference import NaiveStagHunt, check_naive_against_real

BATCH_SIZES = (1, 64, 1024, 4096)


def throughput_loops() -> dict[str, Loop]:
    """Every line of the table, in the order printed."""
    loops: dict[str, Loop] = {
        "parallel": ParallelLoop(staghunt_env.parallel_env(), legal_sampler(random.Random(0))),
        "aec": AECLoop(staghunt_env.env(), legal_sampler(random.Random(1))),
        "kernels@B=1": KernelLoop(),
    }
    for b in BATCH_SIZES:
        loops[f"batched@{b}"] = BatchedLoop(b)
    loops["naive (original design)"] = ParallelLoop(
        NaiveStagHunt(seed=5), legal_sampler(random.Random(5))
    )
    loops["naive, no deepcopy"] = ParallelLoop(
        NaiveStagHunt(seed=6, deepcopy=False), legal_sampler(random.Random(6))
    )
    loops.update(anchor_loops())
    return loops


def table(rows: dict[str, Row]) -> str:
    """The throughput table as recorded in RESULTS.md."""
    return markdown_table(
        [
            {
                "line": r.name,
                "env-steps/s": f"{r.env_sps:,.0f}",
                "agent-steps/s": f"{r.env_asps:,.0f}",
                "env-steps/s (env + sampler)": f"{r.wall_sps:,.0f}",
                "agent-steps/s (env + sampler)": f"{r.wall_asps:,.0f}",
                "µs per step() call": f"{r.us_per_call:,.2f}",
                "spread": f"{r.spread:.0%}",
                "CPU share": f"{r.cpu_share:.0%}",
            }
            for r in rows.values()
        ]
    )


def ratios(rows: dict[str, Row]) -> dict[str, float]:
    """The ratios RESULTS.md quotes (env time only), printed with the env + sampler ratio."""
    pairs = [
        ("batched@4096 / parallel", "batched@4096", "parallel"),
        ("parallel / rps_v2", "parallel", "rps_v2 (anchor)"),
        ("parallel / simple_spread_v3", "parallel", "simple_spread_v3 (anchor)"),
        ("batched@4096 / naive", "batched@4096", "naive (original design)"),
        ("parallel / naive", "parallel", "naive (original design)"),
        ("parallel / naive without deepcopy", "parallel", "naive, no deepcopy"),
        ("parallel / kernels@B=1", "parallel", "kernels@B=1"),
    ]
    print("\nratios (env time only; in brackets: env + sampler):")
    found = {}
    for label, a, b in pairs:
        if a in rows and b in rows:  # an anchor may be missing (mpe2 not installed)
            found[label] = rows[a].env_sps / rows[b].env_sps
            wall = rows[a].wall_sps / rows[b].wall_sps
            print(f"  {label:<34} {found[label]:>10,.1f}x  ({wall:,.1f}x)")
    return found


def targets(rows: dict[str, Row], found: dict[str, float]) -> None:
    """The issue's targets, MET or NOT MET."""
    big, par = rows["batched@4096"], rows["parallel"]
    checks = [
        (
            f"batched@4096 >= 1,000,000 env-steps/s with obs and masks: {big.env_sps:,.0f} "
            f"(engine + sampler {big.wall_sps:,.0f})",
            big.env_sps >= 1e6,
        ),
        (
            f"batched@4096 >= 50x parallel: {found['batched@4096 / parallel']:,.1f}x",
            found["batched@4096 / parallel"] >= 50,
        ),
        (
            f"parallel >= 20,000 env-steps/s: {par.env_sps:,.0f} (with sampler "
            f"{par.wall_sps:,.0f})",
            par.env_sps >= 20000,
        ),
    ]
    if "parallel / rps_v2" in found:
        r = found["parallel / rps_v2"]
        checks.append((f"parallel >= 2x rps_v2 per step: {r:.2f}x", r >= 2))
    print("\ntargets:")
    for label, ok in checks:
        print(f"  [{'MET' if ok else 'NOT MET'}] {label}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None, help="length of one repeat")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the anchors' pygame
    repeats = args.repeats or (3 if args.quick else 5)
    seconds = args.seconds or (0.2 if args.quick else 1.0)

    print_header(
        "env_throughput: " + " ".join(["python -m benchmarks.env_throughput", *sys.argv[1:]])
    )
    print(f"{repeats} repeats of ~{seconds:g} s per line; figures are medians\n")
    ok, detail = check_naive_against_real(episodes=5 if args.quick else 30)
    print(f"naive baseline vs staghunt_env, same state in: {'PASS' if ok else 'FAIL'}: {detail}\n")
    if not ok:
        sys.exit(1)

    print("throughput (4 players, 8x8):")
    rows = measure_all(throughput_loops(), repeats, seconds)
    print()
    print(table(rows))
    targets(rows, ratios(rows))
    print(f"\nload average {load_average()} at end")


if __name__ == "__main__":
    main()
