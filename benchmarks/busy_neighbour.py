"""The main job beside a busy neighbour: how much slower it gets when another process keeps a
core busy, with this project's thread settings and with each library's own.

    python -m benchmarks.busy_neighbour            # the recorded run (about 10 minutes on 2 cores)
    python -m benchmarks.busy_neighbour --quick    # a smoke run

Workloads, each timed in a fresh process (thread pools are sized per process):
  * selfplay: the README's main job in small, ``tom-selfplay``'s quick preset: the untrained
    evaluation (E episodes) and one iteration of collection and learning;
  * engine: ``BatchedStagHunt`` stepping 1,024 games (the engine's parallel kernels).
Thread settings:
  * project: ``tom_agents.threads`` (one torch and one numba thread unless the user says);
  * library: each library's default (torch and numba threads = the core count).
Each is timed alone and beside a burner: one process spinning on one core for exactly as long as
the workload runs. The slowdown is beside / alone; the goal is below 2.5x on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from benchmarks.common import cpu_burner, markdown_table, print_header

SETTINGS = ("project", "library")
WORKLOADS = ("selfplay", "engine")


def _threads(setting: str) -> dict[str, int]:
    if setting == "project":
        return {"torch_threads": 1, "numba_threads": 1}
    cores = os.cpu_count() or 1
    return {"torch_threads": cores, "numba_threads": cores}


def run_selfplay(setting: str, eval_episodes: int) -> float:
    from tom_agents.selfplay.config import build_config
    from tom_agents.selfplay.train import train

    with tempfile.TemporaryDirectory() as out:
        values = {"iterations": 1, "eval_episodes": eval_episodes, "out_dir": out}
        values |= {"progress": False, "workers": 0, **_threads(setting)}  # threads, one process
        config = build_config("quick", [("benchmark", values)])
        start = time.perf_counter()
        train(config)
        return time.perf_counter() - start


def run_engine(setting: str, steps: int) -> float:
    import numpy as np

    from staghunt_env import BatchedStagHunt
    from tom_agents import threads

    threads.configure(**_threads(setting))
    games = BatchedStagHunt(1024, seed=0)
    games.reset()
    actions = np.random.default_rng(0).integers(0, 7, size=(steps, 1024, 4))
    for joint in actions[:10]:  # compile and warm up
        games.step(joint)
    start = time.perf_counter()
    for joint in actions:
        games.step(joint)
    return time.perf_counter() - start


def timed(workload: str, setting: str, size: int, beside_burner: bool) -> float:
    """Seconds of one workload in a child process, alone or beside a spinning burner."""
    command = [sys.executable, "-m", "benchmarks.busy_neighbour", "--child", workload, setting]
    command += ["--size", str(size)]
    with cpu_burner(beside_burner):
        result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small workloads")
    parser.add_argument("--child", nargs=2, metavar=("WORKLOAD", "SETTING"), help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        workload, setting = args.child
        run = run_selfplay if workload == "selfplay" else run_engine
        print(json.dumps({"seconds": run(setting, args.size)}))
        return
    sizes = {"selfplay": 8 if args.quick else 32, "engine": 50 if args.quick else 400}
    print_header("The main job beside a busy neighbour")
    print(f"sizes: selfplay eval episodes {sizes['selfplay']}, engine steps {sizes['engine']}\n")
    rows = []
    for workload in WORKLOADS:
        for setting in SETTINGS:
            alone = timed(workload, setting, sizes[workload], beside_burner=False)
            beside = timed(workload, setting, sizes[workload], beside_burner=True)
            counts = _threads(setting)
            rows.append(
                {
                    "workload": workload,
                    "threads": f"{setting} ({counts['torch_threads']} torch, "
                    f"{counts['numba_threads']} numba)",
                    "alone s": alone,
                    "beside burner s": beside,
                    "slowdown": f"{beside / alone:.2f}x",
                }
            )
            print(markdown_table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
