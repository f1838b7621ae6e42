"""Trained agents shipped inside the package: ``make_agent(name, env_config=..., pretrained=True)``.

Each is a checkpoint in the safe format (:mod:`tom_agents.checkpoints`: safetensors and JSON,
nothing that runs code), listed in ``manifest.json`` with the game it was trained on, the
command and seed that made it and the time it took (``python -m tom_agents.pretrained.build``
makes them all again from scratch). An agent is made only for the game it was trained on:
another game is refused, naming the fields that differ, since its networks know no other (a
fixed ``layout`` of the same game, walls and all, is the same game). A variant that plans
differently with the same networks (``hop_plus``) names their file and its options.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from staghunt_env import StagHuntConfig
from staghunt_env.config import check_same_config

FOLDER = Path(__file__).resolve().parent
MANIFEST = FOLDER / "manifest.json"


def shipped() -> dict[str, dict[str, Any]]:
    """Every shipped agent by name: its file, game, seed, command and training time."""
    if not MANIFEST.exists():
        return {}
    return json.loads(MANIFEST.read_text())["agents"]


def options_for(name: str) -> dict[str, Any]:
    """The planner options a shipped agent plays with (``hop_plus``: hop's networks, planning
    with :data:`~tom_agents.planner.HOP_PLUS`)."""
    return dict(shipped()[name].get("options", {}))


def checkpoint_for(name: str, env_config: StagHuntConfig) -> Path:
    """The shipped checkpoint of ``name`` for this game, or a ValueError saying why not."""
    agents = shipped()
    if name not in agents:
        raise ValueError(f"no pretrained {name!r} is shipped; pretrained agents: {sorted(agents)}")
    entry = agents[name]
    check_same_config(
        env_config,
        StagHuntConfig.make(**entry["env_config"]).to_dict(),  # JSON lists back to tuples
        f"pretrained {name!r} was trained on the default game only; env_config is",
        ignore=("layout", "max_block_components"),
    )
    return FOLDER / entry["file"]
