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
LAYOUT_PLAYERS = "0123456789"

# The step counter t is int32: a bound far below 2**31 keeps t + 1 and every sum with it exact.
MAX_CYCLES = 2**30
# Rewards are float32: larger magnitudes would become inf.
MAX_REWARD = float(np.finfo(np.float32).max)


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
    if isinstance(layout, str):
        rows = layout.strip().splitlines()
    else:
        _check(
            _is_sequence(layout), "layout", f"must be a string or a list of rows, got {layout!r}"
        )
        rows = list(layout)
        for r, row in enumerate(rows):
            _check(isinstance(row, str), "layout", f"row {r} must be a string, got {row!r}")
    rows = [row.strip() for row in rows if row.strip()]
    _check(bool(rows), "layout", "the map is empty")
    width = len(rows[0])
    _check(
        all(len(row) == width for row in rows),
        "layout",
        f"rows have different lengths {[len(r) for r in rows]}",
    )
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
            elif char in LAYOUT_PLAYERS:  # not str.isdigit(): that also takes '٢' and '²'
                _check(int(char) not in players, "layout", f"player {char} appears twice")
                players[int(char)] = (r, c)
            else:
                _check(
                    char == LAYOUT_EMPTY,
                    "layout",
                    f"unknown character {char!r} at row {r}, col {c} "
                    "(use . # S H and the ASCII digits 0-9)",
                )
    _check(
        sorted(players) == list(range(len(players))),
        "layout",
        f"players must be numbered 0..N-1, got {sorted(players)}",
    )
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
        if kwargs.get("layout") is not None:
            layout = canonical("layout", kwargs["layout"])
            derived = {
                "num_players": len(layout.players),
                "num_stags": len(layout.stags),
                "num_hares": len(layout.hares),
                "grid_size": tuple(layout.blocks.shape),
            }
            for name, value in derived.items():
                given = kwargs.get(name)
                _check(
                    given is None or canonical(name, given) == value,
                    name,
                    f"{name}={given!r} conflicts with the layout, which has {value}",
                )
            _check(
                kwargs.get("max_block_components", 0) == 0,
                "max_block_components",
                "conflicts with the layout, whose walls are fixed",
            )
            kwargs = {**kwargs, **derived, "layout": layout, "max_block_components": 0}
        return cls(**kwargs)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # strict types first, stored in canonical form
            object.__setattr__(self, f.name, canonical(f.name, getattr(self, f.name)))
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
        for name in ("max_cycles", "end_after_first_hunt"):
            value = getattr(self, name)
            low = 1 if name == "max_cycles" else 0
            _check(
                value is None or low <= value <= MAX_CYCLES,
                name,
                f"must be {low}..{MAX_CYCLES} (2**30: the step counter is int32), got {value}",
            )
        _check(
            self.max_block_components >= 0,
            "max_block_components",
            f"must be >= 0, got {self.max_block_components}",
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
        """A Layout built by hand must fit the grid and the counts, as a parsed one does."""
        _check(
            isinstance(layout.blocks, np.ndarray)
            and layout.blocks.dtype == bool
            and layout.blocks.shape == self.grid_size,
            "layout",
            f"walls must be a {self.grid_size} bool array, got {layout.blocks!r}",
        )
        _check(self.max_block_components == 0, "max_block_components", "must be 0 with a layout")
        for name in ("players", "stags", "hares"):
            cells = getattr(layout, name)
            count = getattr(self, "num_players" if name == "players" else f"num_{name}")
            _check(
                isinstance(cells, np.ndarray)
                and np.issubdtype(cells.dtype, np.integer)
                and cells.shape == (count, 2),
                "layout",
                f"{name} must be a ({count}, 2) integer array, got {cells!r}",
            )
            inside = (cells >= 0).all() and (cells < self.grid_size).all()
            _check(bool(inside), "layout", f"{name} must lie inside the {self.grid_size} grid")
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


_INTEGERS = ("num_players", "num_stags", "num_hares", "max_cycles", "max_block_components")
_REWARDS = ("stag_reward", "hare_reward", "time_reward")


def is_integer(value: Any) -> bool:
    """A Python or numpy integer; bools are not (``True`` is no player count)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """An int or float (Python or numpy, no bool) within float32 range: no nan, no inf."""
    number = is_integer(value) or isinstance(value, (float, np.floating))
    return number and abs(value) <= MAX_REWARD  # False for nan and inf too


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, (str, bytes))


def canonical(name: str, value: Any) -> Any:
    """``value`` for field ``name`` in its canonical type; ValueError if its type is wrong.

    Nothing is coerced that could change meaning: no str or float to int, no truthiness to bool.
    """
    if name in _INTEGERS or (name == "end_after_first_hunt" and value is not None):
        _check(is_integer(value), name, f"must be an integer, got {value!r}")
        return int(value)
    if name in _REWARDS:
        return _finite(name, value)
    if name == "prosocial":
        _check(isinstance(value, (bool, np.bool_)), name, f"must be True or False, got {value!r}")
        return bool(value)
    if name == "grid_size":
        _check(
            _is_sequence(value) and len(value) == 2 and all(is_integer(x) for x in value),
            name,
            f"must be (rows, cols), two integers, got {value!r}",
        )
        return tuple(int(x) for x in value)
    if name == "player_strength" and value is not None:
        _check(_is_sequence(value), name, f"must be a list of numbers, got {value!r}")
        return tuple(_finite(name, x) for x in value)
    if name == "layout" and value is not None and not isinstance(value, Layout):
        return parse_layout(value)
    return value


def _finite(name: str, value: Any) -> float:
    _check(
        is_finite_number(value),
        name,
        f"must be a finite number, |x| <= {MAX_REWARD:.3g} (rewards are float32), got {value!r}",
    )
    return float(value)


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
