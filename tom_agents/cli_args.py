"""Settings from the command line and TOML files, parsed and type-checked one way for every script.

Every console script takes the same ``--env KEY=VALUE`` (game keywords), ``--set KEY=VALUE``
(its settings), ``--config FILE.toml``, ``--seed``, ``--device`` and ``--no-progress``. Values are
read as TOML and checked against the dataclass field they set, so that ``prosocial=no`` or
``num_simulations=2.5`` is refused with the key named instead of being coerced into something else.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import typing
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from staghunt_env import StagHuntConfig

from .devices import check_device
from .planner.options import PlannerOptions
from .run_folders import RunError, WriteError
from .value_types import Word, check_value

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

# A schema maps each key to its type annotation, or to a nested schema for a table.
Schema = Mapping[str, Any]


def schema_of(cls: type, **tables: Schema) -> dict[str, Any]:
    """The field types of dataclass ``cls``; ``tables`` replace fields read as nested tables."""
    hints = typing.get_type_hints(cls)
    return {f.name: tables.get(f.name, hints[f.name]) for f in dataclasses.fields(cls)}


# The game's keywords as a TOML file or the command line spells them: a layout is its map text.
ENV_SCHEMA = {**schema_of(StagHuntConfig), "layout": str | list[str] | None}
PLANNER_SCHEMA = schema_of(PlannerOptions)
# Bare planner keys (``num_simulations``) stand for ``planner.num_simulations``.
PLANNER_ALIASES = {name: "planner" for name in PLANNER_SCHEMA}


def parse_key_values(items: Iterable[str], flag: str = "--set") -> dict[str, Any]:
    """``["a=1", "b.c=[6, 6]", "d=text"]`` -> ``{"a": 1, "b.c": [6, 6], "d": "text"}``.

    A key given again takes its last value. Values are read as TOML; text that is not TOML is
    kept as a :class:`~.value_types.Word`, which only string fields accept (and boolean fields
    the words true and false): ``device=cuda:1`` needs no quotes, ``prosocial=no`` is refused.
    """
    values: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"{flag} needs key=value, got {item!r}")
        values.pop(key, None)  # the last of repeated settings wins, as on any command line
        try:
            values[key] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            values[key] = Word(raw.strip())
    return values


def planner_settings(values: Mapping[str, Any], source: str = "--set") -> dict[str, Any]:
    """Planner options, spelled ``num_simulations`` or ``planner.num_simulations``, checked."""
    return check_settings(values, {"planner": PLANNER_SCHEMA}, source, PLANNER_ALIASES).get(
        "planner", {}
    )


def read_toml(path: str | Path) -> dict[str, Any]:
    """A TOML file's tables; a missing or malformed file is a ValueError naming it."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise ValueError(f"config file {path}: cannot be read ({e.strerror or e})") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"config file {path}: not valid TOML ({e})") from e


def check_settings(
    values: Mapping[str, Any],
    schema: Schema,
    source: str,
    aliases: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``values`` (nested tables and/or dotted keys) checked against ``schema``, as nested dicts.

    ``aliases`` maps a bare key to the table it belongs in (``num_simulations`` ->
    ``planner``). Unknown keys, keys given twice and values of the wrong type are ValueErrors
    naming ``source`` and the key.
    """
    out: dict[str, Any] = {}
    for dotted, value in _leaves(values, schema):
        path = dotted.split(".")
        if path[0] not in schema and aliases and path[0] in aliases:
            path.insert(0, aliases[path[0]])
        table, node = out, schema
        for depth, part in enumerate(path):
            if not isinstance(node, Mapping) or part not in node:
                known = sorted(node) if isinstance(node, Mapping) else []
                raise ValueError(f"{source}: unknown key {dotted!r}; known here: {known}")
            if depth < len(path) - 1:
                table, node = table.setdefault(part, {}), node[part]
        key = ".".join(path)
        if path[-1] in table:
            raise ValueError(f"{source}: {key} is given twice")
        if isinstance(node[path[-1]], Mapping):
            raise ValueError(f"{source}: {key} must be a table of keys, got {value!r}")
        table[path[-1]] = check_value(key, value, node[path[-1]], source)
    return out


def merge_layers(
    base: Mapping[str, Any],
    layers: Iterable[tuple[str, Mapping[str, Any]]],
    schema: Schema,
    aliases: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``base``, then each ``(source, values)`` layer, checked, over it; tables merge key by key."""
    out = dict(base)
    for source, layer in layers:
        out = _merge(out, check_settings(layer, schema, source, aliases))
    return out


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        both = isinstance(value, Mapping) and isinstance(base.get(key), Mapping)
        out[key] = _merge(base[key], value) if both else value
    return out


def _leaves(values: Mapping[str, Any], schema: Schema, prefix: str = ""):
    """(dotted key, value) for every value, descending into the tables the schema has."""
    for key, value in values.items():
        sub = schema.get(key) if isinstance(schema, Mapping) else None
        if isinstance(value, Mapping) and isinstance(sub, Mapping):
            yield from _leaves(value, sub, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


# ------------------------------------------------------------------ the shared command-line options


def add_common_options(
    parser: argparse.ArgumentParser,
    *,
    settings: str | None = None,
    config: bool = False,
    device: bool = True,
    progress: bool = True,
    game: str = "the default game",
) -> None:
    """Add ``--env``, ``--seed`` and, where the script has them, ``--set``, ``--config``,
    ``--device`` and ``--no-progress`` (``game``: the game without ``--env``, for the help);
    read them back with :func:`read_common_options`."""
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a game keyword (listed below), e.g. --env grid_size=[6,6]; repeatable "
        f"(default: {game})",
    )
    if settings:
        parser.add_argument(
            "--set", action="append", default=[], metavar="KEY=VALUE", help=settings
        )
    if config:
        parser.add_argument(
            "--config",
            metavar="FILE.toml",
            help="settings from a TOML file: the keys --set takes, game keywords in an [env] "
            "table; --set, --env and the other options go on top (default: none)",
        )
    parser.add_argument(
        "--seed", type=_seed, help="the run's seed, a non-negative integer (default: 0)"
    )
    if device:
        parser.add_argument(
            "--device",
            type=_device,
            help="where networks run: auto (CUDA when available), cpu, cuda, cuda:1, ... "
            "(default: auto)",
        )
    if progress:
        parser.add_argument(
            "--no-progress",
            action="store_true",
            help="print no progress bar (it shows on stderr what the run is doing)",
        )


@dataclasses.dataclass(frozen=True)
class CommonOptions:
    """The shared options, read and checked; ``None`` where the command line left them out."""

    env: dict[str, Any]  # game keywords, type-checked against StagHuntConfig
    settings: dict[str, Any]  # --set, dotted keys as given: each script checks its own keys
    config_path: str | None
    config_file: dict[str, Any]  # the --config file's tables ({} without one)
    seed: int | None
    device: str | None
    progress: bool

    def layers(self, **flags: Any) -> list[tuple[str, Mapping[str, Any]]]:
        """``(source, values)`` in the order they apply: ``--config``, ``--set``, ``--env``,
        then the script's own ``flags`` with ``--seed``/``--device``/``--no-progress`` (``None``
        values: not given), for a config with ``env``, ``seed``, ``device`` and ``progress``."""
        flags.update(seed=self.seed, device=self.device, progress=None if self.progress else False)
        layers: list[tuple[str, Mapping[str, Any]]] = [("--set", self.settings)]
        layers.append(("--env", {"env": self.env}))
        if self.config_path is not None:
            layers.insert(0, (f"config file {self.config_path}", self.config_file))
        layers.append(("command line", {k: v for k, v in flags.items() if v is not None}))
        return layers


def read_common_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> CommonOptions:
    """The shared options of ``args``; a value that cannot be read exits with a usage error."""
    path = getattr(args, "config", None)
    with usage_errors(parser):
        env = check_settings(parse_key_values(args.env, "--env"), ENV_SCHEMA, "--env")
        settings = parse_key_values(getattr(args, "set", None) or [], "--set")
        config_file = read_toml(path) if path is not None else {}
    return CommonOptions(
        env=env,
        settings=settings,
        config_path=path,
        config_file=config_file,
        seed=args.seed,
        device=getattr(args, "device", None),
        progress=not getattr(args, "no_progress", False),
    )


def add_run_options(parser: argparse.ArgumentParser, place: str, resumable: bool = True) -> None:
    """Add ``--overwrite`` and, where the command can resume, ``--resume`` (``place``: where
    the run writes, for the help); read them back with :func:`read_run_options`."""
    if resumable:
        parser.add_argument(
            "--resume",
            action="store_true",
            help=f"continue the run at {place} from its newest good checkpoint",
        )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help=f"replace an earlier run at {place}, removing its outputs first"
        + (" (with --resume: only when there is nothing to resume)" if resumable else ""),
    )


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How a run takes its place (:func:`tom_agents.run_folders.claim`). ``fresh``: the place
    was not named, so if an earlier run holds the default one, this run takes a numbered one."""

    resume: bool
    overwrite: bool
    fresh: bool


def read_run_options(args: argparse.Namespace, common: CommonOptions, key: str) -> RunOptions:
    """``--resume``/``--overwrite``, and whether ``key`` (the setting naming the place) was given
    by its flag, ``--set`` or ``--config``."""
    named = getattr(args, key) is not None or key in common.settings or key in common.config_file
    return RunOptions(getattr(args, "resume", False), args.overwrite, fresh=not named)


@contextlib.contextmanager
def run_errors(prog: str) -> Iterator[None]:
    """A refused run or a failed write ends the command with one line saying why (exit status 1):
    the path or setting and the reason, no traceback."""
    try:
        yield
    except (RunError, WriteError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        raise SystemExit(1) from e


@contextlib.contextmanager
def usage_errors(parser: argparse.ArgumentParser) -> Iterator[None]:
    """Turn a ValueError raised inside into ``parser.error``: a usage error, exit status 2."""
    try:
        yield
    except ValueError as e:
        parser.error(str(e))


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def _device(text: str) -> str:
    try:
        return check_device(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e
