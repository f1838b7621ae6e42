"""The checks at the engine's entry points: game states, snapshots, seeds and actions.

The numba kernels index arrays by the positions a state holds and trust the state to be one
the rules could have produced. Whatever comes from outside (``set_state``, ``assign``, a
checkpoint) is checked here once, in full, so that stepping stays free of checks. Every
refusal is a ValueError whose message names the field, and the game and entity at fault.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .config import (  # is_integer and is_finite_number: re-exported for the other checks
    MAX_BLOCK_SHAPE_CELLS,
    MAX_REWARD,
    StagHuntConfig,
    check_same_config,
    is_finite_number,
    is_integer,
)
from .rules import GameState
from .spec import NUM_ACTIONS, agent_name

__all__ = [
    "SNAPSHOT_FORMAT",
    "batched_snapshot",
    "check_action",
    "check_agents",
    "check_game_state",
    "check_seed",
    "is_finite_number",
    "is_integer",
    "parallel_snapshot",
    "rng_from_state",
]

SNAPSHOT_FORMAT = "staghunt_env.snapshot/1"
_SNAPSHOT_KEYS = ("format", "config", "game", "agents", "rng")
_BATCHED_KEYS = ("config", "game", "returns", "rng")
_BIT_GENERATORS = {
    g.__name__: g
    for g in (
        np.random.PCG64,
        np.random.PCG64DXSM,
        np.random.MT19937,
        np.random.Philox,
        np.random.SFC64,
    )
}
_ENTITIES = (("pos", "hunter"), ("stag_pos", "stag"), ("hare_pos", "hare"))


def check_seed(seed: Any, what: str = "seed") -> int | None:
    """``seed`` as Gymnasium's ``seeding.np_random`` takes it: None or an integer >= 0 (no bool)."""
    if seed is not None and not (is_integer(seed) and seed >= 0):
        raise ValueError(f"{what} must be None or a non-negative integer, got {seed!r}")
    return None if seed is None else int(seed)


def check_action(action: Any, what: str = "action") -> int:
    """The action as an int if ``Discrete(7).contains`` takes it and it is no bool; else ValueError.

    Python and numpy integers and 0-d integer arrays pass; floats, bools and strings do not.
    """
    if isinstance(action, int) and not isinstance(action, bool):  # the common case, kept fast
        ok = 0 <= action < NUM_ACTIONS
    else:
        ok = (
            isinstance(action, (np.integer, np.ndarray))
            and action.shape == ()
            and np.issubdtype(action.dtype, np.integer)
            and np.can_cast(action.dtype, np.int64)
            and 0 <= int(action) < NUM_ACTIONS
        )
    if not ok:
        raise ValueError(
            f"{what} must be an integer in Discrete({NUM_ACTIONS}) (0..{NUM_ACTIONS - 1}), "
            f"got {action!r}"
        )
    return int(action)


def rng_from_state(state: Any, what: str = "rng") -> np.random.Generator:
    """A Generator restored from ``bit_generator.state``; ValueError if the state is malformed."""
    try:
        bit_generator = _BIT_GENERATORS[state["bit_generator"]]()
        bit_generator.state = copy.deepcopy(state)
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise ValueError(f"{what}: the RNG state is malformed ({e!r})") from None
    return np.random.Generator(bit_generator)


# ------------------------------------------------------------------------------ game states


def check_game_state(
    state: Any, config: StagHuntConfig, batch: int | None = None, what: str = "state"
) -> None:
    """Raise ValueError unless every game of ``state`` is one the rules could reach for ``config``.

    Checked: a GameState of this configuration's shapes and dtypes (``batch`` games, when given);
    every hunter and prey inside the grid and off the walls; live prey on distinct cells;
    ``t`` in 0..max_cycles and ``first_hunt`` -1 or in 0..t; a game not over still has time
    and something its live hunters can catch; ``first_hunt`` agrees with what was caught; walls
    (and prey cells) equal a fixed layout's, or number at most what ``max_block_components``
    places. A game that is over at ``t = 0`` is a blank one (``GameState.zeros``, before the
    first reset): the catch and wall-count or layout checks skip it.
    """
    _check_arrays(state, config, batch, what)
    _check_cells(state, config, what)
    _check_clock(state, config, what)
    started = ~state.over | (state.t > 0)
    _check_catches(state, started, what)
    _check_walls(state, config, started, what)


def _check_arrays(state: Any, config: StagHuntConfig, batch: int | None, what: str) -> None:
    if not isinstance(state, GameState):
        raise ValueError(f"{what} must be a GameState, got {type(state).__name__}")
    reference = GameState.zeros(config, 1)
    games = batch  # else the number of games in field t, which every field must share
    if games is None and isinstance(state.t, np.ndarray) and state.t.ndim == 1:
        games = state.t.shape[0]
    for name, expected in reference.arrays().items():
        got = getattr(state, name)
        if not isinstance(got, np.ndarray):
            raise ValueError(f"{what} field {name!r} is not an array ({type(got).__name__})")
        shape_ok = (
            got.ndim == expected.ndim
            and got.shape[1:] == expected.shape[1:]
            and got.shape[0] == games
        )
        if not shape_ok or got.dtype != expected.dtype:
            need = "B" if batch is None else batch
            raise ValueError(
                f"{what} field {name!r} has shape {got.shape} and dtype {got.dtype}; this "
                f"configuration needs ({need}, *{expected.shape[1:]}) of {expected.dtype}, "
                "the same number of games in every field"
            )


def _check_cells(state: GameState, config: StagHuntConfig, what: str) -> None:
    cols = config.grid_size[1]
    for name, label in _ENTITIES:
        _check_entity(state, name, label, what)
    prey = np.concatenate([state.stag_pos, state.hare_pos], axis=1).astype(np.int64)
    live = np.concatenate([state.stag_alive, state.hare_alive], axis=1)
    codes = np.where(live, prey[..., 0] * cols + prey[..., 1], -1 - np.arange(live.shape[1]))
    codes.sort(axis=1)
    _refuse(
        (codes[:, 1:] == codes[:, :-1]).any(axis=1),
        lambda b: (
            f"{what}: two live prey of game {b} share a cell (fields 'stag_pos', "
            "'hare_pos'); prey stand on distinct cells"
        ),
    )


def _check_entity(state: GameState, name: str, label: str, what: str) -> None:
    """Every entity of field ``name`` inside the grid and off the walls (alive or not)."""
    rows, cols = state.blocks.shape[1:]
    cells = getattr(state, name)
    r, c = cells[..., 0], cells[..., 1]
    _refuse(
        (r < 0) | (r >= rows) | (c < 0) | (c >= cols),
        lambda b, k: (
            f"{what} field {name!r} has cells outside the {rows}x{cols} grid: "
            f"{label} {k} of game {b} at {_cell(cells[b, k])}"
        ),
    )
    _refuse(
        state.blocks[np.arange(state.batch_size)[:, None], r, c],
        lambda b, k: (
            f"{what} field {name!r} puts {label} {k} of game {b} on a wall at {_cell(cells[b, k])}"
        ),
    )


def _check_clock(state: GameState, config: StagHuntConfig, what: str) -> None:
    t, first, over, limit = state.t, state.first_hunt, state.over, config.max_cycles
    _refuse(
        (t < 0) | (t > limit),
        lambda b: f"{what} field 't' is {t[b]} in game {b}; it must be 0..{limit} (max_cycles)",
    )
    _refuse(
        (first != -1) & ((first < 0) | (first > t)),
        lambda b: (
            f"{what} field 'first_hunt' is {first[b]} in game {b}; it must be -1 (nothing "
            f"caught yet) or 0..t = 0..{t[b]}"
        ),
    )
    alive = state.alive.sum(axis=1)
    catchable = (state.hare_alive.any(axis=1) & (alive >= 1)) | (
        state.stag_alive.any(axis=1) & (alive >= 2)
    )
    _refuse(
        ~over & (t >= limit),
        lambda b: f"{what}: game {b} is not over at t = {t[b]}, the end (max_cycles {limit})",
    )
    _refuse(
        ~over & ~catchable,
        lambda b: (
            f"{what}: game {b} is not over but its {alive[b]} live hunter(s) can catch "
            "nothing (field 'over' disagrees with 'alive' and the prey)"
        ),
    )
    if config.end_after_first_hunt is not None:
        end = config.end_after_first_hunt
        _refuse(
            ~over & (first >= 0) & (first <= t - end),
            lambda b: (
                f"{what}: game {b} is not over at t = {t[b]} although the first catch "
                f"(t = {first[b]}) was end_after_first_hunt = {end} steps ago"
            ),
        )


def _check_catches(state: GameState, started: np.ndarray, what: str) -> None:
    caught = ~np.concatenate([state.stag_alive, state.hare_alive, state.alive], axis=1).all(1)
    prey_caught = ~np.concatenate([state.stag_alive, state.hare_alive], axis=1).all(1)
    first = state.first_hunt
    _refuse(
        started & (first < 0) & caught,
        lambda b: (
            f"{what}: game {b} has caught prey or departed hunters, but field "
            "'first_hunt' is -1 (nothing caught)"
        ),
    )
    _refuse(
        started & (first >= 0) & ~prey_caught,
        lambda b: f"{what}: game {b} has field 'first_hunt' = {first[b]}, but no prey is caught",
    )


def _check_walls(state: GameState, config: StagHuntConfig, started: np.ndarray, what: str) -> None:
    layout = config.layout
    if layout is None:
        most = config.max_block_components * MAX_BLOCK_SHAPE_CELLS
        walls = state.blocks.sum(axis=(1, 2))
        _refuse(
            started & (walls > most),
            lambda b: (
                f"{what} field 'blocks' has {walls[b]} wall cells in game {b}; "
                f"max_block_components = {config.max_block_components} places at most {most}"
            ),
        )
        return
    for name, fixed in (
        ("blocks", layout.blocks),
        ("stag_pos", layout.stags),
        ("hare_pos", layout.hares),
    ):
        differs = (getattr(state, name) != fixed).reshape(state.batch_size, -1).any(axis=1)
        _refuse(
            started & differs,
            lambda b, name=name: (
                f"{what} field {name!r} of game {b} differs from the "
                "configured layout (walls and prey never move)"
            ),
        )


def _refuse(bad: np.ndarray, message: Any) -> None:
    """ValueError with ``message(*index)`` of the first True entry of ``bad``, if any."""
    if bad.any():
        raise ValueError(message(*(int(i) for i in np.argwhere(bad)[0])))


def _cell(cell: np.ndarray) -> tuple[int, int]:
    return int(cell[0]), int(cell[1])


# ------------------------------------------------------------------------------ snapshots


def parallel_snapshot(
    snapshot: Any, config: StagHuntConfig
) -> tuple[GameState, list[str], np.random.Generator | None]:
    """The (game, agents, rng) of a parallel env's ``get_state()``, checked against ``config``."""
    if not isinstance(snapshot, dict) or snapshot.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(
            f"not a stag hunt snapshot (expected a dict with format {SNAPSHOT_FORMAT!r})"
        )
    _check_keys(snapshot, _SNAPSHOT_KEYS, "snapshot")
    _check_config(snapshot, config)
    if not isinstance(snapshot["game"], dict):
        raise ValueError("snapshot['game'] must be a dict of arrays")
    arrays = {}
    for name, value in snapshot["game"].items():
        try:
            arrays[name] = np.array(value)
        except (TypeError, ValueError) as e:
            raise ValueError(f"snapshot['game'][{name!r}] is not an array: {e}") from None
    try:
        game = GameState(**arrays)
    except TypeError as e:
        raise ValueError(f"snapshot['game'] has the wrong fields: {e}") from None
    check_game_state(game, config, batch=1, what="snapshot['game']")
    agents = check_agents(snapshot["agents"], game, "snapshot['agents']")
    rng = None if snapshot["rng"] is None else rng_from_state(snapshot["rng"], "snapshot['rng']")
    return game, agents, rng


def check_agents(agents: Any, game: GameState, what: str = "agents") -> list[str]:
    """``agents`` if it lists exactly the hunters in play in game 0 of ``game``, in order.

    Those are the live hunters of a game that is not over, none once it is.
    """
    possible = [agent_name(i) for i in range(game.alive.shape[1])]
    if not isinstance(agents, list) or not all(isinstance(a, str) for a in agents):
        raise ValueError(f"{what} must be a list of agent names, got {agents!r}")
    if not set(agents) <= set(possible):
        raise ValueError(f"{what} {agents!r} are not among {possible}")
    if len(set(agents)) != len(agents):
        raise ValueError(f"{what} {agents!r} lists an agent twice")
    expected = [] if game.over[0] else [possible[i] for i in np.flatnonzero(game.alive[0])]
    if agents != expected:
        raise ValueError(
            f"{what} is {agents!r}, but the game has {expected!r} in play (the live hunters, "
            "in order, of a game that is not over)"
        )
    return list(agents)


def batched_snapshot(
    snapshot: Any, config: StagHuntConfig, num_envs: int
) -> tuple[GameState, np.ndarray, np.random.Generator]:
    """The (game, returns, rng) of a ``BatchedStagHunt.get_state()``, checked."""
    if not isinstance(snapshot, dict):
        raise ValueError("not a BatchedStagHunt snapshot (use BatchedStagHunt.get_state())")
    _check_keys(snapshot, _BATCHED_KEYS, "BatchedStagHunt snapshot")
    _check_config(snapshot, config)
    game = snapshot["game"]
    check_game_state(game, config, batch=num_envs, what="snapshot['game']")
    returns = snapshot["returns"]
    shape = (num_envs, config.num_players)
    if not (
        isinstance(returns, np.ndarray)
        and returns.shape == shape
        and returns.dtype.kind == "f"
        and (np.abs(returns) <= MAX_REWARD).all()
    ):
        raise ValueError(
            f"snapshot['returns'] must be a finite {shape} float array, got {returns!r}"
        )
    return game.copy(), returns, rng_from_state(snapshot["rng"], "snapshot['rng']")


def _check_config(snapshot: dict, config: StagHuntConfig) -> None:
    if not isinstance(snapshot["config"], dict):
        raise ValueError("snapshot['config'] must be a dict (StagHuntConfig.to_dict())")
    check_same_config(config, snapshot["config"], "snapshot comes from")


def _check_keys(snapshot: dict, keys: tuple[str, ...], what: str) -> None:
    missing = sorted(set(keys) - set(snapshot))
    if missing:
        raise ValueError(f"{what} is missing {missing}")
    unknown = sorted(map(repr, set(snapshot) - set(keys)))
    if unknown:
        raise ValueError(f"{what} has unknown key(s) [{', '.join(unknown)}]; known: {list(keys)}")
