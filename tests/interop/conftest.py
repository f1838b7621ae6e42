"""Interop tests: the environment inside SuperSuit + Stable-Baselines3, RLlib, TorchRL, Tianshou and AgileRL.

Libraries that pin their own dependencies are not in the ``test`` extra, so their test files are
collected only where they import: ``ray[rllib]`` (gymnasium pin) for test_rllib.py, ``tianshou``
for test_tianshou.py, ``agilerl`` (PettingZoo < 1.27, tensordict 0.13) for test_agilerl.py.
CI runs each in its own virtual environment (.ci/run, .ci/interop), which checks the import
first; pytest fails there with "no tests ran" if the file were not collected.

The recipes of docs/interop.md are its fenced blocks titled by name (```` ```python title="NAME" ````,
which the docs site shows as the block's title); the ``run_recipe`` fixture executes one exactly
as written, as test_readme.py does for the README's blocks.
"""

import importlib
from pathlib import Path
from unittest import mock

import pytest
import readme

INTEROP_DOC = Path(__file__).resolve().parents[2] / "docs" / "interop.md"


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:  # e.g. a bare ``ray`` without the rllib extra fails at ray.rllib
        return False
    return True


collect_ignore = [
    test_file
    for test_file, module in (
        ("test_rllib.py", "ray.rllib"),
        ("test_tianshou.py", "tianshou"),
        ("test_agilerl.py", "agilerl.algorithms"),
    )
    if not _importable(module)
]


def doc_blocks(name: str) -> list[str]:
    """docs/interop.md's Python blocks titled ``name``, read with the README's helper."""
    with mock.patch.object(readme, "README", INTEROP_DOC):
        return readme.code_blocks(f'python title="{name}"')


@pytest.fixture(scope="session")
def run_recipe():
    """``run_recipe(name)``: execute docs/interop.md's one block titled ``name``; its namespace."""

    def run(name: str) -> dict:
        (block,) = doc_blocks(name)
        namespace = {"__name__": "__recipe__"}
        exec(compile(block, str(INTEROP_DOC), "exec"), namespace)
        return namespace

    return run
