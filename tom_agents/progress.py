"""One progress display for every command: a count on stderr, and the phase the work is in.

Long phases that advance no count (compiling, evaluating, loading checkpoints, waiting for Ray
workers) are named on the bar, so a command is never silent for long; ``--no-progress``
(``enabled=False``) prints nothing at all.
"""

from __future__ import annotations

import sys
from typing import Any

from tqdm.auto import tqdm


class Progress:
    """A tqdm bar whose description is ``"<title>: <phase>"``; values (reward, ...) as postfix."""

    def __init__(
        self, title: str, total: int | None, unit: str, enabled: bool = True, initial: int = 0
    ) -> None:
        self.title = title
        self.bar = tqdm(
            total=total,
            initial=initial,
            desc=title,
            unit=unit,
            disable=not enabled,
            file=sys.stderr,
            dynamic_ncols=True,
        )

    def start_at(self, n: int) -> None:
        """The count already done before this run started (a resumed run's)."""
        self.bar.initial = self.bar.n = self.bar.last_print_n = n
        self.bar.refresh()

    def phase(self, name: str) -> None:
        """Say what the work is doing now (shown at once)."""
        self.bar.set_description(f"{self.title}: {name}", refresh=True)

    def advance(self, n: int = 1, **values: Any) -> None:
        """``n`` more units done; ``values`` (name -> number or text) replace the postfix."""
        if values:
            self.bar.set_postfix(values, refresh=False)
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
