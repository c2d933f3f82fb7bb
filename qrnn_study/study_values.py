"""The study file's values, checked when it is read, and where in the file each one is typed.

The runner's schema (:data:`qrnn_study.study_file.SCHEMA`) checks the file's shape; this module checks what
the shape cannot: every training instance's settings by the one declaration of each setting's range
(:meth:`qrnn_core.train.TrainConfig.check`, the rules and messages of the ``train`` options), the
names generated from values (sweep arms), duplicate keys, and the line of each key (YAML anchors and
``<<`` merges followed to where the value is typed). Functions return the first problem as
``(location, message)``, a location being the key path the runner's messages name.
"""

from __future__ import annotations

import yaml

from .cli import CONFIG_PARAMETERS, RUN_PARAMETERS, check_out_dir, config_from_parameters, error_parameter

MERGE = "tag:yaml.org,2002:merge"


class YamlSyntaxError(ValueError):
    """The file is not YAML: the message gives its line and column."""


def parse(text: str) -> tuple[object, yaml.Node | None]:
    """The file's data and its node tree (for lines); a syntax error names its line and column."""
    try:
        return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise YamlSyntaxError(f"{where}YAML syntax: {err.problem or err.context}") from None
    except yaml.YAMLError as err:
        raise YamlSyntaxError(f"YAML: {str(err).splitlines()[0]}") from None


def _value_node(node, key):
    """The value node of ``key`` in a mapping node, its own keys first, then those merged in by ``<<``."""
    for k, v in node.value:
        if k.tag != MERGE and k.value == str(key):
            return v
    for k, v in node.value:
        if k.tag == MERGE:
            for merged in (v.value if isinstance(v, yaml.SequenceNode) else [v]):
                if isinstance(merged, yaml.MappingNode) and (found := _value_node(merged, key)) is not None:
                    return found
    return None


def line_of(root, location) -> int | None:
    """The 1-based line where the value at ``location`` (keys and indices) is typed; the deepest found."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for key in location:
        if isinstance(node, yaml.MappingNode):
            node = _value_node(node, key)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            node = node.value[key]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def duplicate_key(node, location=(), seen=None):
    """The first key typed twice in one mapping (YAML keeps the last silently): ``(location, message)``."""
    seen = set() if seen is None else seen
    if id(node) in seen:  # an alias: its anchor is checked once
        return None
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys = set()
        for k, v in node.value:
            if k.tag != MERGE and k.value in keys:
                return (*location, k.value), f"key {k.value!r} is typed twice in one mapping (YAML would keep the last)"
            keys.add(k.value)
            if found := duplicate_key(v, (*location, k.value), seen):
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            if found := duplicate_key(v, (*location, i), seen):
                return found
    return None


def sweep_name_clash(spec: dict, sweep_arm):
    """Two values of one sweep that print as the same arm (``0.007`` and ``0.0070000001``: ``lr0.007``)."""
    for k, r in enumerate(spec["runs"]):
        for param, by_profile in r.get("sweep", {}).items():
            arms: dict[str, float] = {}
            for profile, values in by_profile.items():
                for value in values:
                    arm = sweep_arm(r["name"], param, value)
                    if not _same(arms.setdefault(arm, value), value):
                        return (["runs", k, "sweep", param, profile],
                                f"{arms[arm]!r} and {value!r} both name the arm {arm!r}: make the values differ "
                                "in their first 6 significant digits")
    return None


def _same(a: float, b: float) -> bool:
    """Equal values (a NaN equals a NaN here: it names one arm, and TrainConfig's check refuses it)."""
    return a == b or (a != a and b != b)


def results_problem(spec: dict, base) -> tuple[list, str] | None:
    """The results folder: never inside the repository's source (:func:`qrnn_study.cli.check_out_dir`)."""
    try:
        check_out_dir(str(base / spec["results"]), what="results")
    except ValueError as err:
        return ["results"], str(err)
    return None


def training_problem(spec: dict, k: int) -> tuple[list, str] | None:
    """The first bad setting of training run ``k`` in any profile, by TrainConfig's own check."""
    r = spec["runs"][k]
    blocks = r.get("parameters") or {}
    for block, params in blocks.items():
        for key in params:
            if key in RUN_PARAMETERS or (key == "seed" and "seeds" in r):
                return ["runs", k, "parameters", block, key], f"{key} is set by the runner, not the study file"
            if key not in CONFIG_PARAMETERS:
                return ["runs", k, "parameters", block, key], f"unknown parameter {key!r} of the training notebook"
    for profile, settings in spec["profiles"].items():
        params = {**blocks.get("common", {}), **blocks.get(profile, {})}
        points = [{}]
        for param, values in r.get("sweep", {}).items():
            points = [{param: v} for v in values.get(profile, [])] or [{}]
        for point in points:
            for s, seed in enumerate(settings["seeds"] if "seeds" in r else [params.get("seed", 1929)]):
                problem = _config_problem({**params, **point, "seed": seed})
                if problem is not None:
                    key, message = problem
                    return _located(r, k, profile, key, s), message
    return None


def _config_problem(parameters: dict) -> tuple[str | None, str] | None:
    """``(parameter, message)`` of the first check the config fails (TrainConfig's message), or None."""
    try:
        config_from_parameters(parameters).check()
    except (TypeError, ValueError) as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        return error_parameter(message), message
    return None


def _located(r: dict, k: int, profile: str, key: str | None, seed_index: int) -> list:
    """Where the value of ``key`` in ``profile`` is typed: the profile's block, ``common``, the sweep, the seeds."""
    blocks = r.get("parameters") or {}
    if key is None:
        return ["runs", k]
    if key in (blocks.get(profile) or {}):
        return ["runs", k, "parameters", profile, key]
    if key in (blocks.get("common") or {}):
        return ["runs", k, "parameters", "common", key]
    if key in r.get("sweep", {}):
        return ["runs", k, "sweep", key, profile]
    if key == "seed" and "seeds" in r:
        return ["profiles", profile, "seeds", seed_index]
    return ["runs", k]
