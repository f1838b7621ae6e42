"""The README's main job over several seeds: does the quick preset learn whatever the seed?

    python -m benchmarks.selfplay_seeds                 # seeds 0 1 2 (about 2 minutes each, idle)
    python -m benchmarks.selfplay_seeds --seeds 0 1 2 3 4
    python -m benchmarks.selfplay_seeds --busy          # ... beside a process spinning on one core

Each seed runs ``tom-selfplay`` (the ``quick`` preset, ``--set seed=S``) in its own process and
run folder under ``runs/benchmark_seeds/``, and reads the run's ``evaluation.json``: mean reward
per agent on 96 fixed evaluation episodes before and after training, and the paired bootstrap
interval of the difference. The seeds' differences are then pooled: their mean and a 95%
interval over seeds (Student t), the honest answer to "what does a new run give?". Wall times
are measured around each command, the whole job as a user runs it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import cpu_burner, markdown_table, print_header

OUT = Path("runs/benchmark_seeds")
# Student t quantiles (0.975) by degrees of freedom: the interval over a handful of seeds.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def run_seed(seed: int, busy: bool) -> dict:
    """One ``tom-selfplay`` run; its evaluation and wall time."""
    name = f"seed_{seed}" + ("_busy" if busy else "")
    command = [sys.executable, "-m", "tom_agents.selfplay", "--no-progress", "--overwrite"]
    command += ["--set", f"out_dir={json.dumps(str(OUT))}", "--name", name, "--set", f"seed={seed}"]
    with cpu_burner(busy):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
    evaluation = json.loads((OUT / name / "evaluation.json").read_text())
    return {"seed": seed, "seconds": seconds, **evaluation}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--busy", action="store_true", help="beside a process spinning on a core")
    args = parser.parse_args()
    if not 1 <= len(args.seeds) <= max(T975) + 1:
        parser.error(f"--seeds: give 1 to {max(T975) + 1} seeds")
    print_header("tom-selfplay (quick preset) over seeds" + (", beside a busy process" * args.busy))
    rows, differences = [], []
    for seed in args.seeds:
        result = run_seed(seed, args.busy)
        difference = result["difference"]
        differences.append(difference["mean"])
        lo, hi = difference["ci95"]
        rows.append(
            {
                "seed": seed,
                "untrained": result["untrained"],
                "trained": result["trained"],
                "trained - untrained": f"{difference['mean']:+.3f} [{lo:+.3f}, {hi:+.3f}]",
                "learns (CI > 0)": "yes" if lo > 0 else "no",
                "wall time": f"{result['seconds'] / 60:.1f} min",
            }
        )
        print(markdown_table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(markdown_table(rows))
    mean = statistics.mean(differences)
    if len(differences) > 1:
        half = T975[len(differences) - 1] * statistics.stdev(differences)
        half /= len(differences) ** 0.5
        print(
            f"\nover {len(differences)} seeds: {mean:+.3f}, 95% t-interval "
            f"[{mean - half:+.3f}, {mean + half:+.3f}]"
        )


if __name__ == "__main__":
    main()
