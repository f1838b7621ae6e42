"""The game's configuration: one validated, immutable record shared by every view of the game.

Validation happens here, at construction, so that a configuration that cannot be played is
refused with a message naming the field instead of crashing at reset.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import spec

# The wall pieces placed at reset: (row, col) offsets of small polyominoes.
BLOCK_SHAPES: tuple[tuple[tuple[int, int], ...], ...] = (
    ((0, 0),),
    ((0, 0), (0, 1)),
    ((0, 0), (1, 0)),
    ((0, 0), (0, 1), (0, 2)),
    ((0, 0), (1, 0), (2, 0)),
    ((0, 0), (1, 0), (1, 1)),
    ((0, 0), (0, 1), (1, 0)),
    ((0, 0), (0, 1), (1, 1)),
    ((0, 1), (1, 0), (1, 1)),
)
MAX_BLOCK_SHAPE_CELLS = max(len(s) for s in BLOCK_SHAPES)

LAYOUT_EMPTY, LAYOUT_BLOCK, LAYOUT_STAG, LAYOUT_HARE = ".", "#", "S", "H"


@dataclasses.dataclass(frozen=True)
class Layout:
    """A fixed map: blocks and the start cells of players, stags and hares."""

    blocks: np.ndarray  # (H, W) bool
    players: np.ndarray  # (N, 2) int
    stags: np.ndarray  # (S, 2) int
    hares: np.ndarray  # (R, 2) int

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Layout) and all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name))
            for f in dataclasses.fields(self)
        )

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, f.name).tobytes() for f in dataclasses.fields(self)))

    def to_string(self) -> str:
        grid = np.where(self.blocks, LAYOUT_BLOCK, LAYOUT_EMPTY).astype(object)
        for char, cells in ((LAYOUT_STAG, self.stags), (LAYOUT_HARE, self.hares)):
            for r, c in cells:
                grid[r, c] = char
        for i, (r, c) in enumerate(self.players):
            grid[r, c] = str(i)
        return "\n".join("".join(row) for row in grid)


def parse_layout(layout: str | Sequence[str]) -> Layout:
    """Parse a map written as rows of `. # S H 0-9` (a string with newlines, or a list of rows)."""
    rows = layout.strip().splitlines() if isinstance(layout, str) else list(layout)
    rows = [row.strip() for row in rows if row.strip()]
    if not rows:
        raise ValueError("layout: the map is empty")
    width = len(rows[0])
    if any(len(row) != width for row in rows):
        raise ValueError(f"layout: rows have different lengths {[len(r) for r in rows]}")
    blocks = np.zeros((len(rows), width), dtype=bool)
    players: dict[int, tuple[int, int]] = {}
    stags, hares = [], []
    for r, row in enumerate(rows):
        for c, char in enumerate(row):
            if char == LAYOUT_BLOCK:
                blocks[r, c] = True
            elif char == LAYOUT_STAG:
                stags.append((r, c))
            elif char == LAYOUT_HARE:
                hares.append((r, c))
            elif char.isdigit():
                if int(char) in players:
                    raise ValueError(f"layout: player {char} appears twice")
                players[int(char)] = (r, c)
            elif char != LAYOUT_EMPTY:
                raise ValueError(
                    f"layout: unknown character {char!r} at row {r}, col {c} "
                    "(use . # S H and the digits 0-9)"
                )
    if sorted(players) != list(range(len(players))):
        raise ValueError(f"layout: players must be numbered 0..N-1, got {sorted(players)}")
    return Layout(
        blocks=blocks,
        players=np.array([players[i] for i in range(len(players))], dtype=np.int64).reshape(-1, 2),
        stags=np.array(stags, dtype=np.int64).reshape(-1, 2),
        hares=np.array(hares, dtype=np.int64).reshape(-1, 2),
    )


@dataclasses.dataclass(frozen=True)
class StagHuntConfig:
    """Every rule parameter of the Markov Stag Hunt (SPEC section 1), validated.

    Build it with :meth:`make`, which also accepts a ``layout`` and fills the grid size and
    entity counts from it.
    """

    num_players: int = 4
    num_stags: int = 1
    num_hares: int = 4
    grid_size: tuple[int, int] = (8, 8)
    stag_reward: float = 10.0
    hare_reward: float = 1.0
    time_reward: float = 0.0
    max_cycles: int = 35
    max_block_components: int = 5
    player_strength: tuple[float, ...] | None = None
    prosocial: bool = False
    end_after_first_hunt: int | None = None
    layout: Layout | None = None

    @classmethod
    def make(cls, **kwargs: Any) -> StagHuntConfig:
        """Build a config from the env's keyword arguments, refusing unknown or conflicting ones."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise TypeError(f"unknown config keyword(s) {unknown}; known: {sorted(names)}")
        layout = kwargs.get("layout")
        if layout is not None and not isinstance(layout, Layout):
            layout = parse_layout(layout)
        if layout is not None:
            derived = {
                "num_players": len(layout.players),
                "num_stags": len(layout.stags),
                "num_hares": len(layout.hares),
                "grid_size": tuple(layout.blocks.shape),
            }
            for name, value in derived.items():
                given = kwargs.get(name)
                if given is not None and _normalise(name, given) != value:
                    raise ValueError(
                        f"{name}={given!r} conflicts with the layout, which has {value}"
                    )
            if kwargs.get("max_block_components", 0) != 0:
                raise ValueError(
                    "max_block_components conflicts with the layout, whose walls are fixed"
                )
            kwargs = {**kwargs, **derived, "layout": layout, "max_block_components": 0}
        return cls(**{k: _normalise(k, v) for k, v in kwargs.items()})

    def __post_init__(self) -> None:
        _check(
            isinstance(self.grid_size, tuple)
            and len(self.grid_size) == 2
            and all(isinstance(x, int) for x in self.grid_size),
            "grid_size",
            f"must be (rows, cols), got {self.grid_size!r}",
        )
        for name in ("num_players", "num_stags", "num_hares", "max_cycles", "max_block_components"):
            value = getattr(self, name)
            _check(
                isinstance(value, (int, np.integer)) and not isinstance(value, bool),
                name,
                f"must be an integer, got {value!r}",
            )
        rows, cols = self.grid_size
        _check(rows > 0 and cols > 0, "grid_size", f"must be positive, got {self.grid_size}")
        _check(rows <= 127 and cols <= 127, "grid_size", "must be at most 127 x 127")
        _check(2 <= self.num_players <= 10, "num_players", f"must be 2..10, got {self.num_players}")
        _check(self.num_stags >= 0, "num_stags", f"must be >= 0, got {self.num_stags}")
        _check(self.num_hares >= 0, "num_hares", f"must be >= 0, got {self.num_hares}")
        _check(
            self.num_stags + self.num_hares > 0,
            "num_hares",
            "the game needs at least one prey (num_stags + num_hares > 0)",
        )
        _check(self.max_cycles > 0, "max_cycles", f"must be positive, got {self.max_cycles}")
        _check(
            self.max_block_components >= 0,
            "max_block_components",
            f"must be >= 0, got {self.max_block_components}",
        )
        _check(
            self.end_after_first_hunt is None or self.end_after_first_hunt >= 0,
            "end_after_first_hunt",
            f"must be None or >= 0, got {self.end_after_first_hunt}",
        )
        if self.player_strength is not None:
            _check(
                len(self.player_strength) == self.num_players,
                "player_strength",
                f"needs one value per player ({self.num_players}), got {len(self.player_strength)}",
            )
            _check(
                all(s >= 0 for s in self.player_strength),
                "player_strength",
                f"must be non-negative, got {self.player_strength}",
            )
        free = rows * cols - self.max_block_components * MAX_BLOCK_SHAPE_CELLS
        if self.layout is not None:
            free = int((~self.layout.blocks).sum())
        entities = self.num_players + self.num_stags + self.num_hares
        _check(
            entities <= free,
            "grid_size",
            f"{rows}x{cols} with up to {rows * cols - free} block cells leaves {free} free cells, "
            f"too few for {entities} entities (players + stags + hares)",
        )
        if self.layout is not None:
            self._check_layout(self.layout)

    def _check_layout(self, layout: Layout) -> None:
        cells = [tuple(p) for p in (*layout.stags, *layout.hares)]
        for r, c in (*cells, *map(tuple, layout.players)):
            _check(not layout.blocks[r, c], "layout", f"an entity stands on a block at ({r}, {c})")
        _check(len(set(cells)) == len(cells), "layout", "two prey share a cell")

    @functools.cached_property
    def strength(self) -> np.ndarray:
        """Stag-splitting weights, one per player (all ones by default)."""
        if self.player_strength is None:
            return np.ones(self.num_players, dtype=np.float64)
        return np.asarray(self.player_strength, dtype=np.float64)

    @property
    def num_channels(self) -> int:
        """Observation channels: one per player, then blocks, stags, hares."""
        return spec.num_channels(self.num_players)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (layout as its map string), used to fingerprint snapshots."""
        out = dataclasses.asdict(self)
        out["layout"] = None if self.layout is None else self.layout.to_string()
        return out


def _normalise(name: str, value: Any) -> Any:
    if name == "grid_size":
        return tuple(int(x) for x in value) if isinstance(value, Sequence) else value
    if name == "player_strength" and value is not None:
        return tuple(float(x) for x in value)
    if name in ("stag_reward", "hare_reward", "time_reward"):
        return float(value)
    return value


def _check(ok: bool, field: str, message: str) -> None:
    if not ok:
        raise ValueError(f"StagHuntConfig.{field}: {message}")


def check_same_config(
    ours: StagHuntConfig, theirs: Mapping[str, Any], what: str, ignore: tuple[str, ...] = ()
) -> None:
    """Raise a ValueError naming the fields where ``theirs`` (a ``to_dict()``) differs from ``ours``.

    ``what`` starts the message, e.g. "checkpoint run.pt is for".
    """
    mine = ours.to_dict()
    diff = sorted(k for k in mine if k not in ignore and theirs.get(k) != mine[k])
    if diff:
        raise ValueError(f"{what} another env configuration (differs in {diff})")


def config_from(config: StagHuntConfig | Mapping[str, Any] | None = None, **kwargs: Any):
    """Accept a ready config, a mapping of keywords, or keywords."""
    if isinstance(config, StagHuntConfig):
        if kwargs:
            raise TypeError("pass either a StagHuntConfig or keywords, not both")
        return config
    return StagHuntConfig.make(**{**(config or {}), **kwargs})
