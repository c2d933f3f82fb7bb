"""Command-line options built from the frozen config dataclasses, so the CLI and the notebooks
construct the same :class:`~qrnn_core.train.TrainConfig`."""

from __future__ import annotations

import argparse
import dataclasses

from .data import DataConfig
from .train import TrainConfig


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
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {annotation}") from err

    return parse


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """``--method``, ``--epochs``, ... for every TrainConfig field; ``--data-<field>`` for DataConfig."""
    for f in dataclasses.fields(TrainConfig):
        if f.name == "data":
            continue
        default = f.default
        parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=_parser_for(str(f.type)),
                            default=default, help=f"(default: {default})")
    for f in dataclasses.fields(DataConfig):
        parser.add_argument(f"--data-{f.name.replace('_', '-')}", dest=f"data_{f.name}",
                            type=_parser_for(str(f.type)), default=f.default,
                            help=f"(default: {f.default})")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    values = vars(args)
    data = DataConfig(**{f.name: values[f"data_{f.name}"] for f in dataclasses.fields(DataConfig)})
    return TrainConfig(**{f.name: values[f.name] for f in dataclasses.fields(TrainConfig) if f.name != "data"},
                       data=data)
