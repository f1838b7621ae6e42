"""Network calls whose result for a row does not depend on the rest of the batch.

On the CPU, torch computes batches of 1 to 3 rows by other kernels (matrix-vector paths) than
larger batches, so the same input can come out different in the last bits. The planner's
promise that B decisions searched together equal each searched alone needs row results that
do not depend on the batch, so small batches are padded with zero rows to ``MIN_ROWS``.
"""

from __future__ import annotations

from typing import Any

import torch

MIN_ROWS = 8


def padded_forward(module: torch.nn.Module, *inputs: torch.Tensor) -> Any:
    """``module(*inputs)`` with the leading (batch) dimension padded to at least MIN_ROWS."""
    rows = inputs[0].shape[0]
    if rows >= MIN_ROWS:
        return module(*inputs)
    padded = [torch.cat([x, x.new_zeros((MIN_ROWS - rows, *x.shape[1:]))]) for x in inputs]
    out = module(*padded)
    if isinstance(out, tuple):
        return tuple(o[:rows] for o in out)
    return out[:rows]
