"""One strict type check for every setting: config files, the command line and Python calls.

A setting is checked against its field's annotation, so a value is never silently coerced:
booleans are booleans, integers integers (not 2.5, not true), floats finite numbers. What the
command line could not read as TOML arrives as a :class:`Word`, which only a string field takes
(and a boolean field the words true and false, in any case): ``prosocial=no`` is refused with
the key named instead of becoming a string, or a truthy one.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import types
import typing
from typing import Any


class Word(str):
    """Command-line text that is not a TOML value (``no``, ``cuda:1``, ``abc``): a string only
    where the field is a string."""


_BOOL_WORDS = {"true": True, "false": False}


def check_value(key: str, value: Any, annotation: Any, source: str) -> Any:
    """``value`` if it has type ``annotation`` (tuples from lists, ints widened to floats, plain
    Python numbers from numpy's); otherwise a ValueError naming ``source`` and ``key``."""
    ok, checked = _convert(value, annotation)
    if not ok:
        raise ValueError(f"{source}: {key} must be {describe(annotation)}, got {value!r}")
    return checked


def check_fields(instance: Any) -> None:
    """Check every field of the dataclass ``instance`` against its annotation, in place."""
    cls = type(instance)
    hints = _hints(cls)
    for field in dataclasses.fields(instance):
        value = check_value(
            field.name, getattr(instance, field.name), hints[field.name], cls.__name__
        )
        object.__setattr__(instance, field.name, value)  # frozen dataclasses too


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(value: Any, annotation: Any) -> tuple[bool, Any]:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return True, str(value) if isinstance(value, Word) else value
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return type(None) in args, None
        for arg in args:
            ok, checked = _convert(value, arg)
            if ok:
                return True, checked
        return False, value
    if origin is typing.Literal:
        return value in args and not isinstance(value, Word), value
    if annotation is bool:
        if isinstance(value, Word):
            word = _BOOL_WORDS.get(value.lower())
            return word is not None, word
        return isinstance(value, bool), value
    if isinstance(value, (bool, Word)):  # no other type takes a bool or an unread word ...
        return annotation is str and isinstance(value, Word), str(value)  # ... but a string
    if annotation is int:
        integral = isinstance(value, numbers.Integral)
        return integral, int(value) if integral else value
    if annotation is float:
        return _finite_float(value)
    if origin in (tuple, list):
        return _convert_sequence(value, origin, args)
    if annotation is str:
        return isinstance(value, str), str(value) if isinstance(value, str) else value
    return isinstance(value, origin or annotation), value


def _finite_float(value: Any) -> tuple[bool, Any]:
    if not isinstance(value, numbers.Real):
        return False, value
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        return False, value
    return math.isfinite(number), number


def _convert_sequence(value: Any, origin: type, args: tuple) -> tuple[bool, Any]:
    if not isinstance(value, (list, tuple)):
        return False, value
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        if len(value) != len(args):
            return False, value
        pairs = list(zip(value, args))
    else:
        pairs = [(v, args[0]) for v in value]
    items = [_convert(v, arg) for v, arg in pairs]
    return all(ok for ok, _ in items), origin(v for _, v in items)


def describe(annotation: Any) -> str:
    """``annotation`` in words: "an integer", "true or false", "a list of 3 values, ..."."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in args if a is not type(None))
    if origin is typing.Literal:
        return "one of " + ", ".join(map(repr, args))
    if origin in (tuple, list):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(set(args)) > 1:
                return f"a list of {len(args)} values ({', '.join(describe(a) for a in args)})"
            return f"a list of {len(args)} values, each {describe(args[0])}"
        return f"a list of values, each {describe(args[0])}"
    names = {bool: "true or false", int: "an integer", float: "a finite number", str: "a string"}
    return names.get(annotation, f"a {getattr(annotation, '__name__', annotation)}")
