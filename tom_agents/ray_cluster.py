"""Ray for the commands that spread work over it: joined or started, and refused up front when
it cannot place the workers asked for (Ray would otherwise wait for the CPUs, silently, forever).
"""

from __future__ import annotations

import os

from .run_folders import RunError


def connect_ray(workers: int, address: str | None = None, num_cpus: int | None = None) -> None:
    """Connect to the Ray cluster at ``address`` (or start one here, of ``num_cpus`` CPUs, default
    all) and check it has a free CPU for each of ``workers`` (RunError before any work if not)."""
    try:
        import ray
    except ImportError as e:
        raise ImportError("workers > 0 needs Ray: pip install 'staghunt-tom[ray]'") from e
    if not ray.is_initialized():
        cores = os.cpu_count() or 1
        if address is None and workers > cores:
            raise RunError(
                f"--workers {workers}: each worker needs a CPU, but this machine has {cores}; "
                f"use --workers {cores} or fewer, or a larger Ray cluster"
            )
        ray.init(
            address=address,
            num_cpus=num_cpus if address is None else None,
            include_dashboard=False,
            log_to_driver=False,
        )
    free = ray.available_resources().get("CPU", 0.0)
    if workers > free:
        raise RunError(
            f"--workers {workers}: each worker needs a CPU, but the Ray cluster has {free:g} "
            f"free (of {ray.cluster_resources().get('CPU', 0.0):g}); use --workers "
            f"{int(free)} or fewer, or a larger Ray cluster"
        )
