"""Choosing where torch runs: `--device auto|cpu|cuda`."""

from __future__ import annotations

from advisor.errors import InputError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str = "auto") -> str:
    """'auto' means CUDA when a GPU is visible, else the CPU; asking for CUDA without one is an error."""
    if device not in DEVICES and not str(device).startswith("cuda:"):
        raise InputError(f"unknown device {device!r}; choose one of: {', '.join(DEVICES)}")
    if device == "cpu":
        return "cpu"
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise InputError(f"--device {device} asked for, but torch sees no CUDA GPU")
    return device
