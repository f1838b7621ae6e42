"""Agents from outside the package: ``module:factory`` specs and installed plug-ins.

Two ways, as the Python ecosystem names an app (uvicorn's ``module:app``) and extends a tool
(pytest's plug-ins): ``my_agents:make_greedy`` imports ``my_agents`` from ``sys.path`` and calls
its ``make_greedy``; an installed package declares an entry point in the group
``staghunt_tom.agents`` (``greedy = my_package.agents:make_greedy``), which makes ``greedy`` a
name like the built-in ones. Entry points are loaded only when their agent is used, so a broken
plug-in is reported by its name when it is asked for and never breaks the others.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
from collections.abc import Callable
from typing import Any

PLUGIN_GROUP = "staghunt_tom.agents"
AGENT_METHODS = ("reset", "act", "end_episode")


def is_import_spec(spec: str) -> bool:
    """``module:factory`` (dotted module and attribute names), as opposed to a registered name."""
    module, sep, attr = spec.partition(":")
    names = [*module.split("."), *attr.split(".")]
    return bool(sep) and all(n.isidentifier() for n in names)


def import_factory(spec: str) -> Callable[..., Any]:
    """The callable that ``module:factory`` names; a ValueError says which part is missing."""
    if not is_import_spec(spec):
        raise ValueError(f"agent spec {spec!r} is not module:factory (e.g. my_agents:make_agent)")
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and (module_name + ".").startswith(
            e.name + "."
        ):  # the module itself, not one it imports
            raise ValueError(
                f"agent spec {spec!r}: no module named {e.name!r} on sys.path (run from the "
                "folder that holds it, install it, or add its folder to PYTHONPATH)"
            ) from e
        raise ValueError(f"agent spec {spec!r}: importing {module_name} failed: {e}") from e
    except Exception as e:  # the user's module raised while it was imported
        raise ValueError(
            f"agent spec {spec!r}: importing {module_name} failed: {type(e).__name__}: {e}"
        ) from e
    factory: Any = module
    for part in attr.split("."):
        if not hasattr(factory, part):
            raise ValueError(f"agent spec {spec!r}: {module_name} has no attribute {attr!r}")
        factory = getattr(factory, part)
    if not callable(factory):
        raise ValueError(
            f"agent spec {spec!r}: {attr} is not callable (its type is {type(factory).__name__})"
        )
    return factory


def import_from_cwd() -> None:
    """Let ``module:factory`` specs import from the current folder, as uvicorn does for its
    app (a console script's ``sys.path`` holds the script's folder, not the current one)."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def installed_plugins() -> dict[str, importlib.metadata.EntryPoint]:
    """The agent plug-ins that installed packages declare, by name (nothing is imported)."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=PLUGIN_GROUP)}


def load_plugin(entry_point: importlib.metadata.EntryPoint) -> Callable[..., Any]:
    """The factory of a plug-in; a ValueError names the plug-in, its package and what failed."""
    dist = getattr(entry_point, "dist", None)
    origin = f"{entry_point.value}" + (f" from {dist.name} {dist.version}" if dist else "")
    try:
        factory = entry_point.load()
    except Exception as e:
        raise ValueError(
            f"agent plug-in {entry_point.name!r} ({origin}) failed to load: {type(e).__name__}: {e}"
        ) from e
    if not callable(factory):
        raise ValueError(
            f"agent plug-in {entry_point.name!r} ({origin}) is not callable (its type is "
            f"{type(factory).__name__})"
        )
    return factory


def check_agent(agent: Any, name: str) -> Any:
    """``agent`` if it has the Agent methods; a ValueError naming the factory and what lacks."""
    missing = [m for m in AGENT_METHODS if not callable(getattr(agent, m, None))]
    if missing:
        raise ValueError(
            f"agent {name!r}: the factory returned an object of type {type(agent).__name__}, "
            f"without {', '.join(missing)} (an agent needs reset, act and end_episode methods)"
        )
    return agent
