"""Device choices in one place: where networks live."""

from __future__ import annotations

import torch


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"``: CUDA when available, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def check_device(device: str) -> str:
    """``auto`` or a device torch can parse (checked now, not when the first network is built)."""
    if device != "auto":
        try:
            torch.device(device)
        except (RuntimeError, TypeError) as e:
            raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {device!r}") from e
    return device
