"""Helpers shared by the benchmark scripts: machine description, timing, tables.

Written once here so that every figure in RESULTS.md names its machine the same way and is
timed the same way (median of repeats after a warm-up, so JIT compilation and cache warm-up
never enter a figure).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

_PACKAGES = ("numpy", "numba", "torch", "pettingzoo", "gymnasium", "staghunt-tom")
_THREAD_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_NUMBER = re.compile(r"^[-+]?[\d,.]+ ?[%x]?$")


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def load_average() -> str:
    """The 1/5/15-minute load average: a loaded machine explains a slow or noisy figure."""
    try:
        return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "unknown"


def machine_info() -> dict[str, str]:
    """What a figure depends on: CPU, cores, Python, library versions, thread settings.

    Versions come from package metadata, so nothing heavy (torch) is imported for them; thread
    counts of numba and torch are read only from modules the caller has already imported.
    """
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info = {
        "cpu": _cpu_model(),
        "cores": f"{os.cpu_count()} ({usable} usable)",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    info.update({name: _version(name) for name in _PACKAGES})
    threads = [f"{var}={os.environ.get(var, 'unset')}" for var in _THREAD_VARS]
    if "numba" in sys.modules:
        threads.append(f"numba {sys.modules['numba'].get_num_threads()}")
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        threads.append(
            f"torch {torch.get_num_threads()} (interop {torch.get_num_interop_threads()})"
        )
    info["threads"] = ", ".join(threads)
    info["load average"] = load_average()
    return info


def print_header(title: str) -> None:
    """Print the title and the machine, so a pasted output always says where it ran."""
    print(f"# {title}")
    print()
    for key, value in machine_info().items():
        print(f"- {key}: {value}")
    print(flush=True)


@contextlib.contextmanager
def cpu_burner(active: bool = True) -> Iterator[None]:
    """A busy neighbour for as long as the block runs: one process spinning on one core (or
    nothing, when not ``active``), killed at the end whatever happens."""
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if active else None
    try:
        yield
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()


def median_time(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall seconds of ``fn()`` over ``repeats`` calls, after ``warmup`` untimed calls.

    The median, not the mean, because a shared machine adds rare long pauses that would
    otherwise dominate.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """A GitHub markdown table of ``rows``; columns in order of first appearance.

    Floats get three significant digits (thousands separated), which is all a timing carries;
    columns holding only numbers (or blanks) are right-aligned so that magnitudes line up.
    """
    if not rows:
        return ""
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    cells = [[_cell(row.get(c, "")) for c in columns] for row in rows]
    numeric = [
        all(not line[k] or _NUMBER.match(line[k]) for line in cells) for k in range(len(columns))
    ]
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---:" if right else "---" for right in numeric) + "|",
    ]
    lines.extend("| " + " | ".join(line) + " |" for line in cells)
    return "\n".join(lines)
