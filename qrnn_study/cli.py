"""A run's settings from outside: command-line options and notebook parameters, both built from the
config dataclasses, so the CLI and the notebooks construct the same :class:`~qrnn_core.train.TrainConfig`:
each option's help sentence, allowed values and default come from the field's declaration
(:func:`qrnn_core.options.option`), never typed twice.

Bad input is refused before any compute with ONE line naming the option as typed, and exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from pathlib import Path

from qrnn_core.data import DataConfig
from qrnn_core.train import TrainConfig, config_replace

ROOT = Path(__file__).resolve().parent.parent
#: Folders of the repository that hold its source: never a place for a run's files.
SOURCE_FOLDERS = ("qrnn_core", "qrnn_study", "qrnn_tools", "notebooks", "tests", "book", "data", ".git", ".ci")


#: The notebook and study parameters that set a TrainConfig: its fields and ``data_<field>``.
CONFIG_PARAMETERS = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.name != "data") + tuple(
    f"data_{f.name}" for f in dataclasses.fields(DataConfig))
#: Parameters a study run passes that are not settings of the run itself.
RUN_PARAMETERS = ("profile", "results_dir", "run_name")


def config_from_parameters(parameters: dict) -> TrainConfig:
    """The TrainConfig of a study run's (or a notebook's) parameters: TrainConfig fields, and
    ``data_<field>`` for the data settings; the defaults are the deck's protocol."""
    return config_replace(TrainConfig(), **{k: v for k, v in parameters.items() if k not in RUN_PARAMETERS})


def _parser_for(annotation: str):
    optional = "None" in annotation
    if "bool" in annotation:
        kind = lambda s: {"true": True, "false": False, "1": True, "0": False}[s.lower()]  # noqa: E731
    elif "tuple" in annotation:
        kind = lambda s: tuple(float(v) for v in s.split(","))  # noqa: E731
    elif "int" in annotation:
        kind = int
    elif "float" in annotation:
        kind = float
    else:
        kind = str

    def parse(text: str):
        if optional and text.lower() == "none":
            return None
        try:
            return kind(text)
        except (KeyError, ValueError) as err:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {annotation.replace(' | None', '')}") from err

    return parse


def _help(f: dataclasses.Field) -> str:
    meta = f.metadata
    text = meta.get("help", "")
    if meta.get("choices"):
        text += f" One of: {', '.join(map(str, meta['choices']))}."
    default = "none" if f.default is None else f.default
    return (text + f" (default: {default})").replace("%", "%%")


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """``--method``, ``--epochs``, ... for every TrainConfig field; ``--data-<field>`` for DataConfig."""
    for f in dataclasses.fields(TrainConfig):
        if f.name == "data":
            continue
        parser.add_argument(option_name(f.name), dest=f.name, type=_parser_for(str(f.type)), default=f.default,
                            metavar=_metavar(f), help=_help(f))
    for f in dataclasses.fields(DataConfig):
        parser.add_argument(option_name(f"data_{f.name}"), dest=f"data_{f.name}", type=_parser_for(str(f.type)),
                            default=f.default, metavar=_metavar(f), help=_help(f))


def _metavar(f: dataclasses.Field) -> str:
    if f.metadata.get("choices"):
        return "{" + ",".join(map(str, f.metadata["choices"])) + "}"
    kind = str(f.type).split(" ")[0]
    return "X,Y,Z" if kind.startswith("tuple") else kind.upper()


def option_name(field_name: str) -> str:
    """The option as typed: ``spsa_c`` -> ``--spsa-c``, ``data.transient`` -> ``--data-transient``."""
    return "--" + field_name.replace(".", "-").replace("_", "-")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    values = vars(args)
    data = DataConfig(**{f.name: values[f"data_{f.name}"] for f in dataclasses.fields(DataConfig)})
    return TrainConfig(**{f.name: values[f.name] for f in dataclasses.fields(TrainConfig) if f.name != "data"},
                       data=data)


def error_parameter(message: str) -> str | None:
    """The parameter a config error names first (``epochs``, ``data_window``), or None.

    Config errors start with the field they are about (:meth:`TrainConfig.check`), so the CLI, the study
    file and the notebooks can each point at the option, key or parameter that was typed."""
    m = re.match(r"(data\.)?([a-z_]+)", message)
    if not m:
        return None
    name = (m.group(1) or "").replace(".", "_") + m.group(2)
    return name if name in CONFIG_PARAMETERS else None


def as_typed(message: str) -> str:
    """A config error in the CLI's terms: the field it starts with becomes the option as typed."""
    name = error_parameter(message)
    if name is None:
        return message
    return option_name(name) + message[len(name):]


def check_out_dir(out: str, what: str = "--out") -> Path:
    """A run's output folder, however it is named (``train --out``, a notebook's ``results_dir`` and
    ``run_name``, the study file's ``results``): a folder we may write, not a file, not inside the
    repository's source folders. ``what`` names it in the one-line refusal."""
    if not out or not str(out).strip():
        raise ValueError(f"{what} is empty: name a folder for the run's files")
    path = Path(out).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ValueError(f"{what} {out} is a file, not a folder")
    for folder in SOURCE_FOLDERS:
        if path == ROOT / folder or path.is_relative_to(ROOT / folder):
            raise ValueError(f"{what} {out} is inside the repository's source folder {folder}/: choose another folder")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {out} cannot be written ({existing} is not a writable folder)")
    return path


class ParameterError(ValueError):
    """A notebook parameter is refused: one line naming it, its value and what is allowed."""


def check_notebook_parameters(values: dict) -> tuple[TrainConfig, Path]:
    """The config and the run folder of a training notebook's parameters (its first cell calls this):
    the ``train`` options' rules and messages, the same output-folder rule as ``--out``."""
    try:
        config = config_from_parameters({k: values[k] for k in CONFIG_PARAMETERS})
        config.check()
    except (TypeError, ValueError) as err:
        name = error_parameter(str(err))
        shown = f" (parameter {name} = {values[name]!r})" if name else ""
        raise ParameterError(f"{err}{shown}") from None
    name = str(values.get("run_name", ""))
    if not name or Path(name).name != name or name in (".", ".."):
        raise ParameterError(f"run_name {name!r} must be one folder name (no '/', not empty, not '..')")
    try:
        out = check_out_dir(str(Path(str(values["results_dir"])) / name), what="results_dir/run_name")
    except ValueError as err:
        raise ParameterError(str(err)) from None
    return config, out


def parameter_cell(run_parameters: dict) -> str:
    """The source of a notebook's ``parameters`` cell for a training run: the study's own parameters,
    then every config field with its default and help (``notebooks/train.py`` holds exactly this; a
    test keeps the two equal)."""
    lines = [f"{k} = {v!r}" for k, v in run_parameters.items()]
    for f in dataclasses.fields(TrainConfig):
        if f.name != "data":
            lines.append(f"{f.name} = {f.default!r}  # {f.metadata['help']}")
    for f in dataclasses.fields(DataConfig):
        lines.append(f"data_{f.name} = {f.default!r}  # {f.metadata['help']}")
    return "\n".join(lines)
