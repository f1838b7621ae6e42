"""Files that are whole or absent: write a temporary file beside the target, sync, then rename."""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from .run_folders import writing


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(file)`` on a temporary file, then rename it over ``path``.

    A reader (or a run resumed after a kill) sees the old file or the new one, never half of it.
    An OSError (a full disk, a read-only file system, ...) is a
    :class:`~tom_agents.run_folders.WriteError` naming ``path`` and the reason; the old file stays.
    """
    path = Path(path)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private: give it a new file's mode
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """:func:`atomic_write` of ``text`` as UTF-8."""
    data = text.encode("utf-8")
    return atomic_write(path, lambda f: f.write(data))


def csv_text(rows: Sequence[Mapping[str, Any]], fields: Sequence[str] | None = None) -> str:
    """``rows`` as CSV text with a header (``fields``: the columns, default the first row's)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if fields is None else fields)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def atomic_write_figure(path: str | os.PathLike, figure: Any, dpi: int = 90) -> Path:
    """A matplotlib figure as a PNG at ``path``, whole or not at all."""
    return atomic_write(path, lambda f: figure.savefig(f, format="png", dpi=dpi))


def gifs_available() -> bool:
    """Whether GIFs can be written: imageio comes with the ``agents`` extra (checked before any
    work, so that a missing piece is said at the start, not found after it)."""
    return importlib.util.find_spec("imageio") is not None


def atomic_write_gif(path: str | os.PathLike, frames: list[Any], milliseconds: float) -> Path:
    """Frames (RGB arrays) as a looping GIF at ``path``, each shown ``milliseconds`` (imageio's
    GIF writer reads its ``duration`` in milliseconds), whole or not at all."""
    import imageio.v2 as imageio

    return atomic_write(
        path, lambda f: imageio.mimsave(f, frames, format="GIF", duration=milliseconds, loop=0)
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
