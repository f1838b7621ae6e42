"""Registration with PettingZoo's registry: ``pettingzoo.make("parallel" | "aec", ENV_ID)``."""

from __future__ import annotations

import pettingzoo

ENV_ID = "staghunt/stag_hunt-v0"


def register() -> None:
    """Register ``staghunt/stag_hunt-v0`` for both APIs (idempotent)."""
    for env_type, entry_point in (
        ("parallel", "staghunt_env.stag_hunt_v0:parallel_env"),
        ("aec", "staghunt_env.stag_hunt_v0:env"),
    ):
        registry = (
            pettingzoo.parallel_registry if env_type == "parallel" else pettingzoo.aec_registry
        )
        if ENV_ID not in registry:
            pettingzoo.register(env_type, ENV_ID, entry_point)
