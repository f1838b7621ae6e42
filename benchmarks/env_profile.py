"""Where the env's time goes: cProfile of the parallel env, the AEC env and the batched engine.

    python -m benchmarks.env_profile            # the breakdowns summarised in RESULTS.md
    python -m benchmarks.env_profile --quick    # a short smoke run

Each profile is also grouped by layer (numba kernels, their Python wrappers and dispatch, the
PettingZoo-facing Python of ``staghunt_env``, PettingZoo's own wrappers, the benchmark loop),
which says which layer an optimisation has to attack.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import io
import os
import pstats
import random
import time
from collections.abc import Callable

import staghunt_env
from benchmarks import env_loops
from benchmarks.common import print_header
from benchmarks.env_loops import BatchedLoop, ParallelLoop, legal_sampler

_BENCHMARK_FILES = {os.path.basename(__file__), os.path.basename(env_loops.__file__)}

_KERNELS = {"_step_kernel", "_observe_kernel", "_reset_random_kernel", "_grid_kernel"}
_WRAPPERS = {
    ("rules.py", "step"),
    ("rules.py", "reset"),
    ("rules.py", "<dictcomp>"),
    ("rules.py", "select"),
    ("rules.py", "arrays"),
    ("rules.py", "copy"),
    ("rules.py", "batch_size"),
    ("rules.py", "_as_batch_index"),
    ("observe.py", "observe"),
    ("observe.py", "_entity_arrays"),
    ("config.py", "strength"),
}


def _category(filename: str, func: str) -> str:
    """Which layer a profiled function belongs to, so the table reads as a breakdown by layer."""
    base = os.path.basename(filename)
    if func in _KERNELS:
        return "numba kernels (compiled code)"
    if (base, func) in _WRAPPERS:
        return "kernel wrappers + numba dispatch (rules.step/reset, observe.observe, ...)"
    if base in _BENCHMARK_FILES or func in {
        "<method 'tobytes' of 'numpy.ndarray' objects>",
        "<method 'random' of '_random.Random' objects>",
        "<method 'get' of 'dict' objects>",
    }:
        return "benchmark loop + sampler (benchmarks.env_loops, this file)"
    if base in {"parallel.py", "aec.py", "batched.py"}:
        return f"staghunt_env {base} (Python: dicts, checks, bookkeeping)"
    if "pettingzoo" in filename:
        return "pettingzoo wrappers/utils (Python)"
    return "builtins called from the above (numpy, getattr, ...)"


def run_profile(title: str, body: Callable[[], None], top: int) -> None:
    """cProfile ``body``, print its top functions and its self time grouped by category."""
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.runcall(body)
    wall = time.perf_counter() - t0
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(top)
    print(f"\n## cProfile: {title} ({wall:.2f} s under the profiler)")
    print("\n".join(stream.getvalue().splitlines()[4:]))
    total = sum(v[2] for v in stats.stats.values())
    groups: collections.Counter[str] = collections.Counter()
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        groups[_category(filename, func)] += tt
    print("self time by category (cProfile adds a fixed cost per Python call, so Python-heavy")
    print("categories are somewhat inflated):")
    for name, tt in groups.most_common():
        print(f"  {tt / total:6.1%}  {name}")


def profile_loops(steps: int, top: int = 22) -> None:
    """cProfile of the parallel env loop, then of the AEC loop and of BatchedStagHunt(4096)."""
    loop = ParallelLoop(staghunt_env.parallel_env(), legal_sampler(random.Random(0)))
    loop.run_for(0.3)

    def parallel_body() -> None:
        env, sample, obs = loop.env, loop.sample, loop.obs
        for _ in range(steps):
            if not env.agents:
                obs, _ = env.reset()
            obs = env.step(sample(obs, env.agents))[0]

    run_profile(f"parallel env, {steps:,} steps with the mask sampler", parallel_body, top)

    aec = staghunt_env.env()
    aec.reset(seed=0)
    sample = legal_sampler(random.Random(1))

    def aec_body() -> None:
        for _ in range(steps):  # agent turns, not env-steps
            if not aec.agents:
                aec.reset()
            obs, _, term, trunc, _ = aec.last()
            agent = aec.agent_selection
            aec.step(None if term or trunc else sample({agent: obs}, [agent])[agent])

    run_profile(f"AEC env, {steps:,} agent turns with the mask sampler", aec_body, 12)

    batched = BatchedLoop(4096)
    batched.run_for(0.3)
    calls = max(20, steps // 60)

    def batched_body() -> None:
        for _ in range(calls):
            batched.mask = batched.env.step(batched.sample())[1]

    run_profile(f"BatchedStagHunt(4096), {calls} step() calls with the sampler", batched_body, 12)


# =========================================================================== report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    args = parser.parse_args()
    print_header(
        "env_profile: python -m benchmarks.env_profile" + (" --quick" if args.quick else "")
    )
    profile_loops(4000 if args.quick else 40000)


if __name__ == "__main__":
    main()
