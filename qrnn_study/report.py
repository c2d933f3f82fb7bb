"""Small helpers the notebooks share: where results live, which run produced them, glue."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from qrnn_core.provenance import provenance


def results_path(results_dir: str | Path, name: str) -> Path:
    path = Path(results_dir) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=1, default=float))


def load_json(path: Path) -> dict:
    if not Path(path).exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m qrnn_study run` first")
    return json.loads(Path(path).read_text())


def banner(profile: str, markdown: bool = True) -> str:
    """Markdown (or plain text) naming the profile, machine, versions and commit behind a page's numbers."""
    p = provenance()
    m, v = p["machine"], p["versions"]
    gpu = f", GPU {m['gpu']}" if "gpu" in m else ", no GPU"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    code = "`" if markdown else ""
    load = f", load {m['load_average']}" if m.get("load_average") is not None else ""
    text = (f"profile {code}{profile}{code}, {m['cpu']} ({m['cores']} cores{gpu}{load}), "
            f"torch {v.get('torch')}, qiskit {v.get('qiskit')}, "
            f"qiskit-aer {v.get('qiskit-aer', v.get('qiskit-aer-gpu', '-'))}, "
            f"commit {code}{p['git_commit']}{code}, {when}")  # in full, "-dirty" included: a referee can check it
    return f"**Numbers on this page:** {text}." if markdown else text


def show_banner(profile: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(banner(profile)))

