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
"""

from __future__ import annotations

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
