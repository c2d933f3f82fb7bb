"""Input checks shared by the backends: each raises a ValueError that names the problem."""

from __future__ import annotations

import torch


def resolve_device(device) -> torch.device:
    """``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a ``torch.device``; CUDA only where it is present."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"unknown device {device!r}: use 'cpu' or 'cuda'") from err
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}: use 'cpu' or 'cuda'")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available here")
    return dev


def check_angles(angles, n_angles: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``angles`` as a real ``(..., T, n_angles)`` tensor on ``device``, finite, at least one step."""
    if not isinstance(angles, torch.Tensor):
        angles = torch.as_tensor(angles)
    if angles.is_complex() or angles.dtype == torch.bool:
        raise ValueError(f"angles must be real numbers, got dtype {angles.dtype}")
    if angles.dim() < 2 or angles.shape[-1] != n_angles:
        raise ValueError(
            f"angles must have shape (..., T, {n_angles}) (T steps of {n_angles} angles), "
            f"got {tuple(angles.shape)}"
        )
    if angles.numel() == 0:
        raise ValueError(f"angles must hold at least one step of one sequence, got {tuple(angles.shape)}")
    if not torch.isfinite(angles).all():
        raise ValueError("angles contain NaN or infinite values")
    return angles.to(device=device, dtype=dtype)


def check_shots(shots) -> int | None:
    """``None`` (exact) or a positive integer."""
    if shots is None:
        return None
    if isinstance(shots, bool) or not isinstance(shots, int) or shots <= 0:
        raise ValueError(f"shots must be a positive integer or None (exact), got {shots!r}")
    return shots


def check_generator(generator, device: torch.device) -> torch.Generator:
    """Finite shots need a ``torch.Generator`` on the simulator's device: randomness is never global."""
    if not isinstance(generator, torch.Generator):
        raise ValueError("finite shots need generator=torch.Generator(...) to draw from")
    if generator.device.type != device.type:
        raise ValueError(f"the generator is on {generator.device}, the simulator on {device}")
    return generator
