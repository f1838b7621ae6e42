"""``--help`` that answers the question: defaults shown, choices and settings listed, plain text.

Every console script builds its parser with :func:`new_parser`; the settings a script's
``--set``/``--config``/``--env`` accept are listed in its epilog by :func:`settings_help`, each
with its type and default, read from the same dataclasses that check them.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from staghunt_env import StagHuntConfig

from .cli_args import ENV_SCHEMA
from .value_types import describe

Schema = Mapping[str, Any]


def plain(text: str) -> str:
    """Docstring text for a terminal: no reST backticks."""
    return text.replace("``", "").replace("`", "")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help, "(default: ...)", unless the help gives it or
    there is none; description and epilog keep their line breaks (lists and tables)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if "default" in text or default is None or default is False or default == []:
            return text
        if default is argparse.SUPPRESS:
            return text
        if action.nargs in ("+", "*") and isinstance(default, (list, tuple)):
            return f"{text} (default: {' '.join(map(str, default))})".replace("%", "%%")
        return f"{text} (default: {shown(default)})".replace("%", "%%")


def new_parser(prog: str, description: str, epilog: str | None = None) -> argparse.ArgumentParser:
    """A console script's parser in the shared help style."""
    return argparse.ArgumentParser(
        prog=prog,
        description=plain(description),
        epilog=plain(epilog) if epilog else None,
        formatter_class=HelpFormatter,
    )


def shown(value: Any) -> str:
    """A value as the command line writes it: lists as [6, 6], text bare, None as none."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return str(value)


def settings_help(
    title: str, schema: Schema, defaults: Sequence[Mapping[str, Any]], prefix: str = ""
) -> str:
    """``title``, then one line per key of ``schema``: its name (after ``prefix``), its
    default in each of ``defaults`` (joined by " | ") and its type. Nested tables are skipped:
    they get their own listing."""
    rows = [
        (prefix + key, " | ".join(shown(d.get(key)) for d in defaults), describe(annotation))
        for key, annotation in schema.items()
        if not isinstance(annotation, Mapping)
    ]
    width = max(len(k) for k, _, _ in rows) + 2
    values = max(len(v) for _, v, _ in rows) + 2
    return "\n".join([title, *(f"  {k:<{width}}{v:<{values}}{t}" for k, v, t in rows)])


def game_help(*changes: Mapping[str, Any], prefix: str = "") -> str:
    """The --env keywords with their defaults: the game's, or each of ``changes`` over them (one
    column per preset)."""
    base = dataclasses.asdict(StagHuntConfig())
    columns = [{**base, **c} for c in changes] or [base]
    return settings_help(
        "game keywords, --env KEY=VALUE (default; type):", ENV_SCHEMA, columns, prefix
    )
