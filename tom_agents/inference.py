"""How the search evaluates a network: its number format and its batch padding.

Training keeps fp32 weights. The search evaluates through an :class:`InferenceNet`, which runs
either the module itself (``float32``: exactly what training sees) or a copy of it cast to
``bfloat16``, rebuilt whenever the weights change (every optimiser step and ``load_state_dict``
bumps the parameters' version counters, which key the copy).

bf16 pays on CPUs with AVX512-BF16 or AMX (2x the fp32 matmul rate on this project's CPU
machines) and on GPUs; elsewhere torch emulates it slowly. The agreement of bf16 and fp32
decisions, and self-play reward with each, are measured in ``benchmarks/inference_precision.py``.

Padding: on the CPU, torch computes a row by kernels that depend on the batch it is in: batches
of 1 to 3 rows by matrix-vector paths, and on CPUs with AVX-512 (an Intel Xeon here) matrix
products of fewer than 16 rows and convolutions over batches that are not a multiple of 4 by
other kernels again, so the same input can come out different in the last bits. The planner's
promise that B decisions searched together equal each searched alone needs row results that do
not depend on the batch, so every batch is padded with zero rows to at least ``MIN_ROWS`` and to
a multiple of ``ROW_MULTIPLE`` (checked for every batch of 1 to 300 rows of both networks, with
one torch thread as agents run; several threads split a batch by its size).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import warnings
from typing import Any

import torch

MIN_ROWS = 16
ROW_MULTIPLE = 4
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


@dataclasses.dataclass(frozen=True)
class InferenceSettings:
    """``dtype``: ``float32`` (the module itself), ``bfloat16`` (a copy), or ``auto``: bfloat16
    where it is native (a GPU, a CPU with AVX512-BF16 or AMX), else float32."""

    dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.dtype not in (*DTYPES, "auto"):
            raise ValueError(
                f"inference dtype must be one of {(*DTYPES, 'auto')}, got {self.dtype!r}"
            )


def padded_forward(module: Any, *inputs: torch.Tensor) -> Any:
    """``module(*inputs)`` with the leading (batch) dimension padded to at least MIN_ROWS and to
    a multiple of ROW_MULTIPLE."""
    rows = inputs[0].shape[0]
    extra = max(MIN_ROWS - rows, -rows % ROW_MULTIPLE)
    if not extra:
        return module(*inputs)
    padded = [torch.cat([x, x.new_zeros((extra, *x.shape[1:]))]) for x in inputs]
    out = module(*padded)
    if isinstance(out, tuple):
        return tuple(o[:rows] for o in out)
    return out[:rows]


@functools.cache
def bf16_supported() -> bool:
    """Whether this CPU computes bf16 natively (oneDNN's check); GPUs are assumed to."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


class InferenceNet:
    """Evaluates ``module`` for the search under ``settings``; outputs are fp32."""

    def __init__(self, module: torch.nn.Module, settings: InferenceSettings) -> None:
        self.module = module
        self.settings = settings
        self._copy: torch.nn.Module | None = None
        self._key: tuple | None = None
        on_gpu = next(module.parameters()).is_cuda
        if settings.dtype == "bfloat16" and not (on_gpu or bf16_supported()):
            warnings.warn(
                "inference dtype bfloat16: this CPU has no native bf16 (AVX512-BF16 or AMX), "
                "so torch emulates it and the search will be slower than in float32",
                stacklevel=2,
            )

    def _version(self) -> tuple:
        return tuple((p.data_ptr(), p._version) for p in self.module.parameters())

    def dtype(self, on_gpu: bool) -> str:
        """The dtype evaluated in (``auto`` resolved for where the module is now)."""
        if self.settings.dtype == "auto":
            return "bfloat16" if on_gpu or bf16_supported() else "float32"
        return self.settings.dtype

    def _current(self, on_gpu: bool) -> torch.nn.Module:
        """The module to run: itself in fp32, else its copy in the inference dtype (rebuilt if
        the weights changed since it was made)."""
        dtype = self.dtype(on_gpu)
        if dtype == "float32":
            return self.module
        key = self._version()
        if key != self._key:
            net = copy.deepcopy(self.module).to(DTYPES[dtype]).eval()
            for p in net.parameters():
                p.requires_grad_(False)
            self._copy, self._key = net, key
        return self._copy

    @torch.inference_mode()
    def __call__(self, *inputs: torch.Tensor) -> Any:
        out = padded_forward(self._current(inputs[0].is_cuda), *inputs)
        if isinstance(out, tuple):
            return tuple(o.float() for o in out)
        return out.float()
