"""How a setting is declared: once, with its default, a help sentence and its allowed values.

The CLI (:mod:`qrnn_study.cli`), the config checks and the notebooks' parameters all read these
declarations, so no setting's name, default or meaning is typed twice.
"""

from __future__ import annotations

from dataclasses import field


def option(default, help: str, choices: tuple | None = None, minimum: float | None = None):
    """A dataclass field carrying ``help``, ``choices`` and ``minimum`` in its metadata."""
    return field(default=default, metadata={"help": help, "choices": choices, "minimum": minimum})
