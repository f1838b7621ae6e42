"""Registration with PettingZoo's registry: ``pettingzoo.make("parallel" | "aec", ENV_ID)``.

PettingZoo has a registry from 1.27 on; with older versions there is nothing to register
with and :func:`register` does nothing (build the env with ``staghunt_env.parallel_env()``).
"""

from __future__ import annotations

import pettingzoo

from ._compat import HAS_REGISTRY

ENV_ID = "staghunt/stag_hunt-v0"


def register() -> None:
    """Register ``staghunt/stag_hunt-v0`` for both APIs (idempotent; a no-op before 1.27)."""
    if not HAS_REGISTRY:
        return
    for env_type, entry_point in (
        ("parallel", "staghunt_env.stag_hunt_v0:parallel_env"),
        ("aec", "staghunt_env.stag_hunt_v0:env"),
    ):
        registry = (
            pettingzoo.parallel_registry if env_type == "parallel" else pettingzoo.aec_registry
        )
        if ENV_ID not in registry:
            pettingzoo.register(env_type, ENV_ID, entry_point)
