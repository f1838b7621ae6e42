"""Where a run writes, owned by that run alone: claimed, locked, checked and reported plainly.

``tom-selfplay``, ``tom-arena`` and ``tom-train-ppo`` write through :func:`claim`, so that

* two runs never write into one place at once: the place is locked with ``fcntl.flock`` on a
  lock file, which the kernel releases when the process ends, however it ends (a run killed
  with SIGKILL leaves no stale lock; where there is no ``fcntl`` nothing is locked);
* a new run never mixes its outputs with an older run's: a place that holds one is refused
  (resume it, or overwrite it), or, for a default name, the run moves to the next free
  numbered place (``runs/quick`` -> ``runs/quick_2``), as Stable-Baselines3 numbers ``PPO_N``;
* an output that cannot be written is found before any work, and a write that fails later
  (disk full, read-only file system, ...) is a :class:`WriteError` naming the file and the
  operating system's reason instead of the internals of the library that was writing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # not a POSIX system: runs are not locked
    fcntl = None


class RunError(Exception):
    """A run that cannot go ahead as asked; the message says why and names the path or setting."""


class NothingToResumeError(RunError):
    """``--resume`` of a run that left nothing usable: each fault is named (one per file)."""

    def __init__(self, path: str | os.PathLike, faults: list[str]) -> None:
        super().__init__(
            f"nothing to resume from {os.fspath(path)}: {'; '.join(faults)}; pass --overwrite "
            "to start a new run there instead"
        )


class WriteError(OSError):
    """An output that could not be written: ``cannot write PATH: <the OS's reason>``."""

    def __init__(self, path: str | os.PathLike, error: OSError) -> None:
        super().__init__(error.errno, error.strerror or str(error), os.fspath(path))

    def __str__(self) -> str:
        return f"cannot write {self.filename}: {self.strerror}"


@contextlib.contextmanager
def writing(path: str | os.PathLike) -> Iterator[None]:
    """Turn an OSError raised inside into a :class:`WriteError` naming ``path``."""
    try:
        yield
    except WriteError:
        raise
    except OSError as e:
        raise WriteError(path, e) from e


@dataclasses.dataclass(frozen=True)
class Place:
    """Where one run writes: a run folder of its own, or one output file in a shared folder.

    ``outputs``: glob patterns, relative to ``folder``, of the files and folders the run
    writes (what makes a place "hold a run", and what overwriting removes).
    """

    path: Path  # the run folder, or the output file
    outputs: tuple[str, ...]
    is_file: bool = False

    @classmethod
    def run_folder(cls, folder: str | os.PathLike, outputs: tuple[str, ...]) -> Place:
        return cls(Path(folder), (*outputs, "*.tmp"))

    @classmethod
    def output_file(cls, path: str | os.PathLike) -> Place:
        path = Path(path)
        return cls(path, (path.name, f"{path.name}*.tmp"), is_file=True)

    @property
    def folder(self) -> Path:
        return self.path.parent if self.is_file else self.path

    @property
    def lock_path(self) -> Path:
        return self.folder / (f".{self.path.name}.lock" if self.is_file else ".lock")

    def numbered(self, n: int) -> Place:
        """The n-th place of this name: ``runs/quick_2``, ``runs/ppo/ppo_2.safetensors``."""
        if self.is_file:
            return Place.output_file(self.path.with_name(f"{self.path.stem}_{n}{self.path.suffix}"))
        return dataclasses.replace(self, path=self.path.with_name(f"{self.path.name}_{n}"))

    def existing_outputs(self) -> list[Path]:
        """What a run left here (nothing when the folder does not exist)."""
        return sorted({p for pattern in self.outputs for p in self.folder.glob(pattern)})


class Claim:
    """A place held by this process: locked until :meth:`release` (or the process's end)."""

    def __init__(self, place: Place, fd: int | None) -> None:
        self.place = place
        self._fd = fd

    @property
    def path(self) -> Path:
        return self.place.path

    def clear(self) -> None:
        """Remove an earlier run's outputs (``--overwrite``); other files are left alone."""
        for path in self.place.existing_outputs():
            with writing(path):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)

    def release(self) -> None:
        """Unlock (removing the lock file first, so no one can lock the old file meanwhile)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                self.place.lock_path.unlink()
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def claim(
    place: Place,
    *,
    resume: bool = False,
    overwrite: bool = False,
    fresh: bool = False,
    rename: str = "--name",
    resumable: bool = True,
) -> Claim:
    """Own ``place`` for one run; a RunError says why it cannot be, and what to pass instead.

    The place (its folder created) must be writable and not in use by another run. One that
    holds a run's outputs is refused, unless ``resume`` (the caller then resumes, or refuses
    if nothing can be resumed) or ``overwrite`` (its outputs are removed first). With ``fresh``
    (a default name: neither resume nor overwrite), a place that is taken or in use gives way
    to the first free numbered one, and the move is printed. ``rename``: the option that names
    the place; ``resumable``: whether the command can resume (both for the messages).
    """
    if resume and not overwrite and not place.path.exists():
        raise NothingToResumeError(place.path, ["it does not exist"])
    fresh = fresh and not (resume or overwrite)
    n = 1
    while True:
        candidate = place if n == 1 else place.numbered(n)
        n += 1
        held = _lock(candidate)
        if held is None:
            if fresh:
                continue
            raise RunError(
                f"{candidate.path} is in use by another run{_holder(candidate)}; wait for it to "
                f"finish, or choose another {rename}"
            )
        found = candidate.existing_outputs()
        if found and not resume:
            if not overwrite:
                held.release()
                if fresh:
                    continue
                to_resume = "--resume to continue it, " if resumable else ""
                raise RunError(
                    f"{candidate.path} {_taken(candidate, found)}: pass {to_resume}--overwrite "
                    f"to replace it, or choose another {rename}"
                )
            held.clear()
        if candidate != place:
            print(f"{place.path} {_taken(place)}: this run writes to {candidate.path}")
        return held


def _lock(place: Place) -> Claim | None:
    """The place, checked writable and locked; None when another process holds its lock."""
    folder = _check_writable(place.folder)
    if fcntl is None:
        return Claim(place, None)
    try:
        while True:
            fd = os.open(place.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            if _is_current(fd, place.lock_path):
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                return Claim(place, fd)
            os.close(fd)  # its holder removed that lock file meanwhile: lock the new one
    except OSError as e:
        raise RunError(f"cannot write in {folder}: {e.strerror or e}") from e


def _is_current(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _holder(place: Place) -> str:
    with contextlib.suppress(OSError, ValueError):
        return f" (pid {int(place.lock_path.read_text())})"
    return ""


def _taken(place: Place, found: list[Path] | None = None) -> str:
    """How an earlier run holds ``place``, naming what it left (``found``) in a folder."""
    if place.is_file:
        return "already exists"
    if found is None:
        return "holds an earlier run"
    names = [p.relative_to(place.folder).as_posix() for p in found]
    return f"already holds a run ({', '.join(names[:4])}{', ...' if len(names) > 4 else ''})"


def _check_writable(folder: Path) -> Path:
    """``folder``, created if need be and checked writable now, before any work."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunError(f"cannot create {folder}: {e.strerror or e}") from e
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise RunError(f"cannot write in {folder}: {e.strerror or e}") from e
    return folder
