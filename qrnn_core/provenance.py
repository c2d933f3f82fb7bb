"""Where a result came from: machine, library versions and git commit, saved beside every figure."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

_PACKAGES = ("torch", "qiskit", "qiskit-aer", "qiskit-aer-gpu", "numpy", "scipy")


#: What a study writes into its own tree (results, executed pages): outputs, not the code that made them.
#: A result written there does not make the commit behind the next one "-dirty".
OUTPUTS = ("results", "book/generated")


def git_commit(path: Path | str | None = None) -> str:
    """``HEAD``'s hash, with ``-dirty`` if tracked files other than the study's outputs (:data:`OUTPUTS`)
    differ from it; ``"unknown"`` outside git."""
    cwd = Path(path) if path else Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *(f":!{o}" for o in OUTPUTS)],
            cwd=top, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def machine() -> dict[str, object]:
    """CPU model, core count, torch threads, and the GPU where torch sees one."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, object] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        # Timings mean little on a busy machine: the 1-minute load average when this was recorded.
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def provenance() -> dict[str, object]:
    return {"machine": machine(), "versions": library_versions(), "git_commit": git_commit()}
