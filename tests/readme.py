"""The README's code blocks, so that tests can execute exactly what users read."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def code_blocks(tag: str = "python") -> list[str]:
    """Every fenced block whose info string is exactly ``tag`` (e.g. "python", "python sb3")."""
    pattern = re.compile(r"^```" + re.escape(tag) + r"\n(.*?)^```", re.S | re.M)
    return pattern.findall(README.read_text())


def examples() -> list[tuple[str, str | None]]:
    """Every ``python`` block with the output the README shows for it: the ``text`` block that
    follows it, separated by one line of prose at most ("prints, for example"), else None."""
    pattern = re.compile(
        r"^```python\n(.*?)^```\n(?:\n[^\n`]*\n\n```text\n(.*?)^```)?", re.S | re.M
    )
    return [(code, output or None) for code, output in pattern.findall(README.read_text())]
