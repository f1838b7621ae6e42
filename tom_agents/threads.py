"""Thread pools that share the machine: the one place where numba's and torch's pools are sized.

Both libraries size their pools to the core count. That pays on an idle machine with big
batches, and costs dearly on a shared one: a parallel region waits at its barrier for a thread
the OS has lent to someone else, and waiting OpenMP threads spin. On 2 cores beside one busy
process the batched engine ran 3x slower with numba's 2 threads than with one, and the
self-play job 2.5x slower with 2 torch threads than with one (`benchmarks/busy_neighbour.py`).
The agents' networks are small and their game batches stay below the engine's parallel
threshold, so one thread each is the default for every process that runs agents: the trainer,
its Ray actors, the arena and its tasks, the PPO trainer. A user's ``OMP_NUM_THREADS`` (torch)
and ``NUMBA_NUM_THREADS`` (numba) win over the defaults; explicit arguments win over both.

The other cores serve as processes, not threads: self-play's Ray actors (one thread each).
:func:`auto_workers` starts one per free core, since that pays only on cores no one else uses.
At the paper budget on 2 cores, 2 actors play 1.25-1.38x the env steps/s of one process on an
idle machine and 0.55-0.6x beside one busy process (``benchmarks/selfplay_throughput.py``).
"""

from __future__ import annotations

import importlib.util
import os

import numba
import torch

TORCH_ENV, NUMBA_ENV = "OMP_NUM_THREADS", "NUMBA_NUM_THREADS"


def _from_env(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise ValueError(f"environment variable {name}={value!r}: must be a positive integer")
    return int(value)


def resolve(torch_threads: int | None = None, numba_threads: int | None = None) -> dict[str, int]:
    """The thread counts to use: the arguments, else the user's variables, else one each."""
    chosen = {
        "torch_threads": torch_threads or _from_env(TORCH_ENV) or 1,
        "numba_threads": numba_threads or _from_env(NUMBA_ENV) or 1,
    }
    for name, value in chosen.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: must be a positive integer or None, got {value!r}")
    # numba's pool is sized once, at import (NUMBA_NUM_THREADS or the core count).
    chosen["numba_threads"] = min(chosen["numba_threads"], numba.config.NUMBA_NUM_THREADS)
    return chosen


def configure(torch_threads: int | None = None, numba_threads: int | None = None) -> dict[str, int]:
    """Size both pools for this process (see :func:`resolve`); returns the counts, to record."""
    chosen = resolve(torch_threads, numba_threads)
    torch.set_num_threads(chosen["torch_threads"])
    numba.set_num_threads(chosen["numba_threads"])
    return chosen


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the OS has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def load_average() -> float:
    """Runnable processes over the last minute (0 where the OS does not say)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # no getloadavg here, or it could not be read
        return 0.0


def free_cores() -> int:
    """Usable cores minus the load of the last minute (rounded): those no one else is using."""
    return max(usable_cores() - round(load_average()), 0)


def auto_workers(num_games: int, on_cpu: bool) -> tuple[int, str]:
    """(Ray self-play actors, why) for ``workers`` left unset: one per free core, at most one per
    game, where two or more cores are free, the networks run on the CPU and Ray is installed;
    else 0 (play in this process)."""
    if not on_cpu:
        return 0, "the networks run on a GPU"
    if importlib.util.find_spec("ray") is None:
        return 0, "Ray is not installed (pip install 'staghunt-tom[ray]')"
    free = free_cores()
    if free < 2:
        return 0, f"{free} of {usable_cores()} cores free (load {load_average():.1f})"
    return min(free, num_games), f"{free} of {usable_cores()} cores free"
