"""Confidence intervals by bootstrap: one value per independent unit (a match, an episode)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def bootstrap_ci(
    values: Sequence[float], rounds: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of ``values`` and its 95% percentile-bootstrap interval (resampling the values)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"bootstrap_ci needs a non-empty 1-D sequence, got shape {values.shape}")
    rng = np.random.default_rng(seed)
    means = rng.choice(values, size=(rounds, len(values))).mean(axis=1)
    return float(values.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def paired_bootstrap_ci(
    before: Sequence[float], after: Sequence[float], rounds: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of (after - before) over paired units and its 95% bootstrap interval."""
    return bootstrap_ci(np.asarray(after) - np.asarray(before), rounds, seed)
