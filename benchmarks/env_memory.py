"""Memory behaviour of ``BatchedStagHunt`` and how far it is from the memory-bandwidth bound.

    python -m benchmarks.env_memory            # the full run recorded in RESULTS.md
    python -m benchmarks.env_memory --quick    # a short smoke run

Two questions: does a long run accumulate memory or allocate per step (tracemalloc, numpy
buffers included), and is the engine bound by memory bandwidth (the bytes of observations and
masks it writes per second, against numpy's copy and fill rates on this machine) or by
computation?
"""

from __future__ import annotations

import argparse
import statistics
import tracemalloc
from typing import Any

import numpy as np

from benchmarks.common import median_time, print_header
from benchmarks.env_loops import BatchedLoop, measure_all

BATCH = 4096


def memory_check(batch: int, steps: int) -> dict[str, Any]:
    """tracemalloc over ``steps`` engine steps after warm-up (numpy reports its buffers to it).

    Tracing starts before the warm-up, so that caches filled lazily on the first steps are in
    the baseline. For every ``step()`` the peak of traced memory above its level just before
    the call is recorded, with the number of games that ended (and were auto-reset) in it.
    """
    loop = BatchedLoop(batch, seed=7)
    # the records are preallocated numpy arrays: writing into them allocates nothing
    peaks = np.zeros(steps, dtype=np.int64)
    sampler_peaks = np.zeros(steps, dtype=np.int64)
    ended = np.zeros(steps, dtype=np.int64)
    level = np.zeros(steps, dtype=np.int64)
    tracemalloc.start()
    for _ in range(100):
        loop.mask = loop.env.step(loop.sample())[1]
    base = tracemalloc.get_traced_memory()[0]
    for k in range(steps):
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        actions = loop.sample()
        sampler_peaks[k] = tracemalloc.get_traced_memory()[1] - before
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        loop.mask = loop.env.step(actions)[1]
        current, peak = tracemalloc.get_traced_memory()
        peaks[k] = peak - before
        level[k] = current
        ended[k] = np.count_nonzero(loop.env.episode_ended)
    tracemalloc.stop()
    net = int(level[-1] - base)
    second_half = int(level[-1] - level[steps // 2 - 1])
    peaks, sampler_peaks, ended = peaks.tolist(), sampler_peaks.tolist(), ended.tolist()
    env = loop.env
    quiet = [p for p, e in zip(peaks, ended) if e == 0]
    per_ended = [p / e for p, e in zip(peaks, ended) if e > 0]
    worst = int(np.argmax(peaks))
    return {
        "batch": batch,
        "steps": steps,
        "net": net,
        "second_half": second_half,
        "peak_median": statistics.median(peaks),
        "peak_max": peaks[worst],
        "ended_at_max": ended[worst],
        "quiet_steps": len(quiet),
        "quiet_peak_max": max(quiet) if quiet else float("nan"),
        "per_ended_median": statistics.median(per_ended) if per_ended else float("nan"),
        "ended_median": statistics.median(ended),
        "ended_max": max(ended),
        "sampler_peak_max": max(sampler_peaks),
        "obs_bytes": env.obs.nbytes,
        "mask_bytes": env.action_mask.nbytes,
        "per_game_obs": env.obs[0].nbytes,
    }


def bandwidth(nbytes: int, repeats: int = 7) -> dict[str, float]:
    """numpy copy and fill rates (bytes written per second) on buffers of ``nbytes``."""
    src = np.ones(nbytes, dtype=np.uint8)
    dst = np.empty_like(src)
    reps = max(1, int(2**28 // nbytes))  # ~256 MiB written per timing

    def copy() -> None:
        for _ in range(reps):
            np.copyto(dst, src)

    def fill() -> None:
        for _ in range(reps):
            dst.fill(0)

    written = nbytes * reps
    return {
        "copy": written / median_time(copy, repeats),
        "fill": written / median_time(fill, repeats),
    }


def report_memory(mem: dict[str, Any]) -> None:
    """Print what ``memory_check`` found, in the words RESULTS.md uses."""
    obs_b = mem["obs_bytes"]
    print(
        f"memory (tracemalloc, numpy buffers included; BatchedStagHunt({mem['batch']}), "
        f"{mem['steps']} steps after 100 traced warm-up steps):"
    )
    print(
        f"  net growth of traced memory: {mem['net']:+,} B over {mem['steps']} steps "
        f"({mem['second_half']:+,} B over the last {mem['steps'] // 2}); obs buffer {obs_b:,} B, "
        f"mask buffer {mem['mask_bytes']:,} B"
    )
    print(
        f"  transient peak above the pre-step level, per step(): median {mem['peak_median']:,.0f} B"
        f" ({mem['peak_median'] / obs_b:.3%} of the obs buffer); on the {mem['quiet_steps']} "
        f"steps where no game ended: max {mem['quiet_peak_max']:,.0f} B"
    )
    print(
        f"  auto-reset allocates per ended game: median {mem['per_ended_median']:,.0f} B "
        f"(one game's obs is {mem['per_game_obs']:,} B); games ended per step: median "
        f"{mem['ended_median']:g}, max {mem['ended_max']:,}; worst step: {mem['peak_max']:,} B "
        f"({mem['peak_max'] / obs_b:.0%} of the obs buffer) with {mem['ended_at_max']:,} games "
        f"ending at once"
    )
    print(f"  sampler (benchmarks.env_loops): peak {mem['sampler_peak_max']:,} B per call")


def report_bound(mem: dict[str, Any], env_sps: float, repeats: int) -> None:
    """Bytes the engine writes per second against numpy's fill rate: memory- or compute-bound."""
    per_step = mem["obs_bytes"] + mem["mask_bytes"]
    calls = env_sps / mem["batch"]
    written = per_step * calls
    dram = bandwidth(256 * 2**20, repeats)
    cache = bandwidth(mem["obs_bytes"], repeats)
    print(f"\nphysical bound (observation + mask bytes written by the engine at B={mem['batch']}):")
    print(f"  {per_step:,} B per step() x {calls:,.1f} step()/s = {written / 1e9:.2f} GB/s written")
    print(
        f"  numpy on 256 MiB (DRAM): copy {dram['copy'] / 1e9:.1f} GB/s, fill "
        f"{dram['fill'] / 1e9:.1f} GB/s written -> engine at {written / dram['fill']:.1%} "
        f"of the fill rate"
    )
    print(
        f"  numpy on {mem['obs_bytes'] / 2**20:.1f} MiB (obs-buffer size, cache-resident): copy "
        f"{cache['copy'] / 1e9:.1f} GB/s, fill {cache['fill'] / 1e9:.1f} GB/s -> engine at "
        f"{written / cache['fill']:.1%} of the fill rate"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    print_header("env_memory: python -m benchmarks.env_memory" + (" --quick" if args.quick else ""))
    mem = memory_check(BATCH, 50 if args.quick else 200)
    report_memory(mem)
    rows = measure_all(
        {"batched": BatchedLoop(BATCH)}, 3 if args.quick else 5, 0.2 if args.quick else 1.0
    )
    print(f"  BatchedStagHunt({BATCH}): {rows['batched'].env_sps:,.0f} env-steps/s (env time only)")
    report_bound(mem, rows["batched"].env_sps, repeats)


if __name__ == "__main__":
    main()
