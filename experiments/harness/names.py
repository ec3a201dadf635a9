"""Names on the command line checked before Hydra composes anything: an experiment, model, profile or other
config-group choice that does not exist is one line naming the closest valid names, exit 2 (Hydra's own
message is a dozen lines and lists every model of every experiment)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import yaml

from experiments.harness.config import parse_override
from experiments.harness.env import ROOT
from experiments.harness.errors import ConfigError, first_line

GROUPS = ("experiment", "model", "profile", "protocol", "trainer", "paths", "pde")


def options(group: str, dirs: list[Path]) -> list[str]:
    """The choices of a config group in these config folders: their files, and for models the least-squares
    variants composed in code."""
    found = {p.stem for conf in dirs for p in (conf / group).glob("*.yaml")}
    if group == "model":
        from experiments.harness.variants import lsq_variants

        for conf in dirs:
            found |= set(lsq_variants(str(conf)))
    return sorted(found)


def conf_dirs(argv: list[str]) -> list[Path]:
    """The config folders a command composes from: conf/ (or --config-path's), --config-dir's, hydra.searchpath's."""
    dirs, extra = [ROOT / "conf"], []
    for i, arg in enumerate(argv):
        flag, _, value = arg.partition("=")
        if flag in ("--config-path", "-cp", "--config-dir", "-cd") and not value and i + 1 < len(argv):
            value = argv[i + 1]
        if flag in ("--config-path", "-cp"):
            dirs = [Path(value)]
        elif flag in ("--config-dir", "-cd"):
            extra.append(Path(value))
        elif flag == "hydra.searchpath":
            extra += [Path(p) for p in re.findall(r"file://([^,\]\s]+)", value)]
    return dirs + extra


def check_names(argv: list[str]) -> None:
    """ConfigError (one line) for the first group choice in argv that its config folders do not have."""
    dirs = conf_dirs(argv)
    conf = dirs[0]
    overrides = [a for a in argv if "=" in a and not a.startswith("-") and not a.startswith("hydra")]
    parsed = []
    for text in overrides:
        try:
            parsed.append(parse_override(text))
        except Exception as e:  # Hydra's parser raises its own error types; its message names what is wrong
            raise ConfigError(
                f"{text}: {first_line(e)} (https://hydra.cc/docs/advanced/override_grammar/basic)"
            ) from None
    chosen = {p.key_or_group: p for p in parsed if p.package is None}
    experiment = "fit2d"  # conf/config.yaml's default
    if "experiment" in chosen and not chosen["experiment"].is_sweep_override():
        experiment = chosen["experiment"].get_value_element_as_str()
    for group in GROUPS:
        override = chosen.get(group)
        if override is None or override.is_delete():
            continue
        values = (
            list(override.sweep_string_iterator())
            if override.is_sweep_override()
            else [override.get_value_element_as_str()]
        )
        valid = options(group, dirs)
        for value in values:
            if value in valid:
                continue
            lineup = yaml.safe_load((conf / "lineup.yaml").read_text()).get(experiment) if group == "model" else None
            shown = list(lineup) if lineup else valid
            close = difflib.get_close_matches(value, shown, n=2) or difflib.get_close_matches(value, valid, n=2)
            takes = f"experiment={experiment} takes" if lineup else f"conf/{group} has"
            raise ConfigError(
                f"{group}={value}: no such {group} ({takes} {', '.join(shown)})"
                + (f"; did you mean {' or '.join(close)}?" if close else "")
            )
