"""Choosing where torch runs: `--device auto|cpu|cuda|cuda:N`."""

from __future__ import annotations

import re

from advisor.errors import InputError

DEVICES = ("auto", "cpu", "cuda")
SPELLINGS = "auto, cpu, cuda, cuda:N (N: a GPU index)"


def parse_device(device) -> str:
    """Check how a device is spelled, without importing torch (the CLI checks it before any work)."""
    text = str(device)
    if text in DEVICES or re.fullmatch(r"cuda:\d+", text):
        return text
    raise InputError(f"unknown device {device!r}; choose one of: {SPELLINGS}")


def resolve_device(device: str = "auto") -> str:
    """'auto' means CUDA when a GPU is visible, else the CPU; asking for CUDA without one is an error."""
    device = parse_device(device)
    if device == "cpu":
        return "cpu"
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise InputError(f"--device {device} asked for, but torch sees no CUDA GPU")
    return device


def start_cuda(device: str = "auto") -> None:
    """Create the CUDA context now where `device` resolves to a GPU (a second or so, once per
    process), so that the first fit on it does not pay for it; nothing on a CPU-only machine."""
    try:
        resolved = resolve_device(device)
    except InputError:
        return
    if resolved.startswith("cuda"):
        import torch

        torch.zeros(1, device=resolved)
