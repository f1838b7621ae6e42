"""The game that the quick self-play preset and the PPO trainer play by default.

One definition, so that a newcomer's self-play and PPO agents meet in one arena without flags
(``tom-arena checkpoint:... ppo:...``): a checkpoint records its game, and the arena refuses to
seat agents trained for different games.
"""

from __future__ import annotations

from typing import Any

QUICK_GAME: dict[str, Any] = {"grid_size": [6, 6], "max_block_components": 3, "max_cycles": 20}


def quick_game() -> dict[str, Any]:
    """A fresh copy of :data:`QUICK_GAME` (configs own and may change their ``env``)."""
    return {key: list(v) if isinstance(v, list) else v for key, v in QUICK_GAME.items()}
