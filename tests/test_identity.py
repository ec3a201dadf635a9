"""Every trial keeps its identity: the configuration hash and the seed-0 key of every (experiment, model,
profile, protocol) at its first sweep point, against tests/data/config_hashes.json, computed before
the code moved into harness/ and analysis/ (and before the *_lsq models were composed in code). A
changed hash would orphan every record in every store: a change that means it must say so here.
Changed on purpose: KAN's 36 points, when `model.impl` (fast or pykan's) and `model.dtype` joined its config;
MNIST's 14 quick points (mnist, eq3_mnist), when quick's training split went from 20,000 images to 6,000;
the 51 points of the MLPs' and the PINN's least-squares variants, when their width scan reached sharper first
layers (conf/model/mlp_relu.yaml)."""

import json
from pathlib import Path

from hydra import compose, initialize_config_dir

from experiments.harness.config import config_hash
from experiments.harness.runner import seeded

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = json.loads((ROOT / "tests" / "data" / "config_hashes.json").read_text())


def first_points() -> dict[str, dict]:
    """One launch point per (experiment, model, profile, protocol): the first of its sweep."""
    seen, out = set(), {}
    for point, expected in sorted(EXPECTED.items()):
        words = point.split()
        base = tuple(w for w in words if w.split("=")[0] in ("experiment", "profile", "protocol", "model"))
        if base not in seen:
            seen.add(base)
            out[point] = expected
    return out


def test_every_configuration_keeps_its_hash_and_key():
    points = first_points()
    assert len(points) > 150  # every experiment x model x profile, and the tuned protocol's
    got = {}
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        for point in points:
            _, config, key = seeded(compose(config_name="config", overrides=point.split() + ["seed=0"]), 0)
            got[point] = {"config_hash": config_hash(config), "key_seed0": key}
    changed = [p for p in points if got[p] != points[p]]
    assert not changed, f"{len(changed)} of {len(points)} configurations changed identity, e.g. {changed[:3]}"
