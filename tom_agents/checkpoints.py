"""Checkpoints as data only: one safetensors file per checkpoint, never a pickle.

Every checkpoint of ``tom_agents`` (planners, self-play runs, PPO policies) goes through
:func:`save` and :func:`load`. A checkpoint is a *tree*: nested dicts (str or int keys), lists,
tuples, None, bools, ints (of any size), floats (nan and inf too), strings, numpy arrays and
scalars, and torch tensors. Arrays and tensors are stored as safetensors tensors; the structure
and every other value go as JSON in the safetensors header's metadata, with the format name, its
version and the checkpoint's ``kind`` ("ppo", "planner", ...). Loading parses JSON and raw
tensor bytes only, so it can build nothing but those types: a file, whoever made it, cannot run
code when it is opened. That is why older checkpoints (``torch.save`` pickles, Stable-Baselines3
zips) are refused by name instead of being converted.

    checkpoints.save("run/ppo.safetensors", "ppo", {"policy": model.policy.state_dict(), ...})
    kind, tree = checkpoints.load("run/ppo.safetensors", kinds="ppo")
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch
import torch

from .atomic import atomic_write

FORMAT = "tom_agents.checkpoint"
# The kinds of checkpoint this package writes (one name each, used by writers and readers).
PLANNER, SELFPLAY, PPO = "planner", "selfplay", "ppo"
VERSION = 1
# The safetensors library refuses larger headers; a larger length field means a foreign file.
_MAX_HEADER = 100_000_000
_PICKLE_PROTOCOL_2_PLUS = b"\x80"
_ZIP_MAGIC = b"PK\x03\x04"
# The tensor dtypes safetensors stores (torch < 2.3 has no uint16/32/64; complex128 has no code).
_DTYPES = frozenset(
    getattr(torch, name)
    for name in (
        *("bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64"),
        *("float16", "bfloat16", "float32", "float64", "complex64"),
    )
    if hasattr(torch, name)
)


class CheckpointError(ValueError):
    """A file that is not a usable checkpoint of ours; the message names the file and why."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        super().__init__(f"cannot use checkpoint {os.fspath(path)}: {reason}")
        self.path = Path(path)
        self.reason = reason


def save(path: str | os.PathLike, kind: str, tree: Any) -> Path:
    """Write ``tree`` as a ``kind`` checkpoint at ``path``, whole or not at all; returns the path.

    Tensors come back from :func:`load` as CPU tensors (without ``requires_grad``), numpy arrays
    as numpy arrays in native byte order, every other value as it went in. A value of another
    type (a dataclass, a set, a function, ...) is a TypeError naming where it is in the tree:
    checkpoints hold data, so convert objects to dicts first.
    """
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"checkpoint kind must be a non-empty string, got {kind!r}")
    tensors: dict[str, torch.Tensor] = {}
    structure = json.dumps(_encode(tree, tensors, "tree"), allow_nan=False, separators=(",", ":"))
    metadata = {"format": FORMAT, "version": str(VERSION), "kind": kind, "tree": structure}
    data = safetensors.torch.save(tensors, metadata=metadata)
    return atomic_write(path, lambda f: f.write(data))


def peek(path: str | os.PathLike) -> str:
    """The kind of the checkpoint at ``path``, reading only its header (CheckpointError if none)."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
            length = _header_length(path, head, os.fstat(f.fileno()).st_size)
            f.seek(8)
            header = f.read(length)
    except OSError as e:
        raise CheckpointError(path, f"{type(e).__name__}: {e.strerror or e}") from e
    return _metadata(path, header)["kind"]


def load(path: str | os.PathLike, kinds: str | Iterable[str]) -> tuple[str, Any]:
    """``(kind, tree)`` of the checkpoint at ``path``, whose kind must be one of ``kinds``.

    Raises CheckpointError for anything else: a missing, torn or foreign file, an old-format
    (pickled) checkpoint, or a checkpoint of another kind.
    """
    expected = {kinds} if isinstance(kinds, str) else set(kinds)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise CheckpointError(path, f"{type(e).__name__}: {e.strerror or e}") from e
    length = _header_length(path, data[:9], len(data))
    metadata = _metadata(path, data[8 : 8 + length])
    kind = metadata["kind"]
    if kind not in expected:
        raise CheckpointError(
            path,
            f"it is a {kind!r} checkpoint, expected {' or '.join(map(repr, sorted(expected)))}",
        )
    try:
        tensors = safetensors.torch.load(data)
    except Exception as e:  # the safetensors parser reports torn files with its own error types
        raise CheckpointError(path, f"torn or corrupt tensor data ({e})") from e
    try:
        structure = json.loads(metadata["tree"], parse_constant=_no_constant)
        return kind, _decode(structure, tensors, path)
    except ValueError as e:  # CheckpointError included
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(path, f"its structure is not valid JSON ({e})") from e
    except RecursionError as e:  # a crafted file may nest deeper than Python's stack
        raise CheckpointError(path, "its structure is nested too deeply") from e


def _header_length(path: str | os.PathLike, head: bytes, size: int) -> int:
    """The safetensors header length from the first 9 bytes, or why the file is not one.

    A safetensors file is a little-endian u64 length, then a JSON header starting with "{";
    only when that does not fit are the first bytes matched against zips and pickles (a
    length's first byte may well be a pickle's 0x80).
    """
    if len(head) >= 9 and head[8:9] == b"{":
        (length,) = struct.unpack("<Q", head[:8])
        if length <= min(_MAX_HEADER, size - 8):
            return length
        if length <= _MAX_HEADER:
            raise CheckpointError(path, "torn (its header runs past the end of the file)")
    if head.startswith(_ZIP_MAGIC):
        raise CheckpointError(path, _old_zip_reason(path))
    if head.startswith(_PICKLE_PROTOCOL_2_PLUS):
        raise CheckpointError(path, _old_format("a pickle (e.g. from torch.save)"))
    if len(head) < 9:
        raise CheckpointError(path, f"too short ({size} bytes) to be a checkpoint")
    raise CheckpointError(path, "not a safetensors file")


def _metadata(path: str | os.PathLike, header: bytes) -> dict[str, str]:
    """Our metadata from a safetensors header, or a CheckpointError saying why it is not ours."""
    try:
        parsed = json.loads(header.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise CheckpointError(path, f"not a safetensors file, or torn (bad header: {e!r})") from e
    metadata = parsed.get("__metadata__") if isinstance(parsed, dict) else None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise CheckpointError(path, f"not a tom_agents checkpoint (no {FORMAT!r} format mark)")
    version, kind = metadata.get("version"), metadata.get("kind")
    if not (isinstance(version, str) and version.isdigit()) or not isinstance(kind, str):
        raise CheckpointError(path, "its header has no valid version or kind")
    if int(version) > VERSION:
        raise CheckpointError(
            path, f"written by a newer tom_agents (format version {version} > {VERSION})"
        )
    if not isinstance(metadata.get("tree"), str):
        raise CheckpointError(path, "its header has no structure")
    return metadata


def _old_zip_reason(path: str | os.PathLike) -> str:
    """Name the old zip formats from their member names (the zip directory runs no code)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return "a zip file, not a tom_agents checkpoint"
    if "data" in names and "policy.pth" in names:
        return _old_format("a Stable-Baselines3 zip (PPO.save)")
    if any(name.endswith("data.pkl") for name in names):
        return _old_format("a torch.save zip")
    return "a zip file, not a tom_agents checkpoint"


def _old_format(what: str) -> str:
    return (
        f"it is an old-format checkpoint ({what}). It is not opened, because loading it could "
        "run code stored in it. Retrain with this version of tom_agents, which writes "
        "safetensors checkpoints that hold data only."
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


# ---------------------------------------------------------------- the tree as JSON
# JSON holds None, bools, ints, finite floats, strings and lists as themselves; everything else
# is an object with one tag key. A dict is a list of [key, value] pairs, so int keys and the
# order survive and no user key can be mistaken for a tag.
_DICT, _TUPLE, _FLOAT = "$dict", "$tuple", "$float"
_TENSOR, _ARRAY, _SCALAR = "$tensor", "$ndarray", "$npscalar"
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _encode(value: Any, tensors: dict[str, torch.Tensor], where: str) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):  # numpy's str_ too
        return str(value)
    if isinstance(value, torch.Tensor):
        tensor = value.detach().to("cpu", copy=True).contiguous()
        return {_TENSOR: _add(tensors, tensor, where)}
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.kind not in "biufc" or array.dtype.itemsize > 8:
            raise TypeError(f"checkpoint {where}: cannot store an array of {array.dtype}")
        native = np.array(array, dtype=array.dtype.newbyteorder("="), order="C", copy=True)
        tag = _ARRAY if isinstance(value, np.ndarray) else _SCALAR
        return {tag: _add(tensors, torch.from_numpy(native), where)}
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {_FLOAT: repr(float(value))}
    if isinstance(value, list):
        return [_encode(v, tensors, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(v, tensors, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, dict):
        pairs = []
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"checkpoint {where}: dict keys must be str or int, got {key!r}")
            pairs.append([_key(key), _encode(item, tensors, f"{where}[{key!r}]")])
        return {_DICT: pairs}
    raise TypeError(
        f"checkpoint {where}: cannot store a {type(value).__name__}; checkpoints hold dicts, "
        "lists, tuples, numbers, strings, None, numpy arrays and torch tensors"
    )


def _key(key: str | int) -> str | int:
    return str(key) if isinstance(key, str) else int(key)


def _add(tensors: dict[str, torch.Tensor], tensor: torch.Tensor, where: str) -> str:
    if tensor.dtype not in _DTYPES:
        raise TypeError(f"checkpoint {where}: safetensors cannot store {tensor.dtype}")
    name = str(len(tensors))
    tensors[name] = tensor
    return name


def _decode(node: Any, tensors: dict[str, torch.Tensor], path: str | os.PathLike) -> Any:
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(v, tensors, path) for v in node]
    if not (isinstance(node, dict) and len(node) == 1):
        raise CheckpointError(path, f"malformed structure: {_short(node)}")
    ((tag, body),) = node.items()
    if tag == _DICT and isinstance(body, list):
        out = {}
        for pair in body:
            if not (isinstance(pair, list) and len(pair) == 2 and _is_key(pair[0])):
                raise CheckpointError(path, f"malformed dict entry: {_short(pair)}")
            out[pair[0]] = _decode(pair[1], tensors, path)
        return out
    if tag == _TUPLE and isinstance(body, list):
        return tuple(_decode(v, tensors, path) for v in body)
    if tag == _FLOAT and body in _NON_FINITE:
        return _NON_FINITE[body]
    if tag in (_TENSOR, _ARRAY, _SCALAR) and isinstance(body, str) and body in tensors:
        tensor = tensors[body]
        if tag == _TENSOR:
            return tensor
        array = tensor.numpy()
        return array[()] if tag == _SCALAR else array
    raise CheckpointError(path, f"malformed structure: {_short(node)}")


def _is_key(key: Any) -> bool:
    return isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool))


def _short(node: Any) -> str:
    text = json.dumps(node)
    return text if len(text) <= 80 else text[:77] + "..."


__all__ = ["FORMAT", "VERSION", "CheckpointError", "load", "peek", "save"]
