"""The contract of docs/running.md, kept: a new model and a new experiment family plug in through their
own files, with no file of the harness (or of this checkout) edited.

- a model: its module, its model YAML and its line in the lineup;
- a family: its package (task with its config keys, report, one `register` call), its experiment
  YAML and its lineup entry.

Both live in a temporary folder (the package on PYTHONPATH, conf/ a copy with the new files), run from
the command line as a user runs them: a trial, a bad value of the family's own key, and the report.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = Path(__file__).parent / "plugins"  # toyfamily/ and toymodels/: what a user would write


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    """conf/ with a toy model in fit1d's lineup and a toy family, and the environment that finds them."""
    tmp = tmp_path_factory.mktemp("user")
    conf = tmp / "conf"
    shutil.copytree(ROOT / "conf", conf, ignore=shutil.ignore_patterns("protocols"))
    (conf / "model" / "tiny.yaml").write_text((PLUGINS / "tiny.yaml").read_text())
    (conf / "experiment" / "toy.yaml").write_text((PLUGINS / "toy.yaml").read_text())
    lineup = yaml.safe_load((conf / "lineup.yaml").read_text())
    text = (conf / "lineup.yaml").read_text()
    text = text.replace("fit1d: {", "fit1d: {tiny: tab:gray, ", 1)  # the model's one line
    text += "toy: {gmnm: tab:red, tiny: tab:gray}\n"  # the family's entry
    (conf / "lineup.yaml").write_text(text)
    assert "toy" not in lineup
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PLUGINS), str(ROOT)])}
    return tmp, conf, env


def run(args, env, cwd):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


def git_status() -> str:
    return subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True).stdout


def test_a_new_model_and_a_new_family_plug_in_without_editing_the_harness(user):
    tmp, conf, env = user
    before = git_status()
    store, logs = tmp / "store", tmp / "logs"
    common = [f"paths.store_dir={store}", f"paths.log_dir={logs}", "trainer.device=cpu", "profile=smoke"]
    runner = ["experiments.run", f"--config-path={conf}"]
    # the model in an existing experiment, then the family's experiment with its default model and the new one
    for launch in (["experiment=fit1d", "model=tiny"], ["-m", "experiment=toy"]):
        r = run([*runner, *launch, *common], env, tmp)
        assert r.returncode == 0, r.stderr[-3000:]
    records = {(p.parent.name, p.stem) for p in store.glob("*/*.json")}
    assert {e for e, _ in records} == {"fit1d", "toy"} and len(records) == 3  # fit1d tiny; toy gmnm and tiny
    # the family's own key is checked by the one config check, from its task's declaration
    bad = run([*runner, "experiment=toy", "task.frequency=-1", *common], env, tmp)
    assert bad.returncode == 2 and "task.frequency=-1: must be a number > 0" in bad.stderr
    # the report finds the family's report through its registration, and the model's row in fit1d's tables
    out = tmp / "results"
    rep = run(
        ["experiments.report", "--profile", "smoke", "--store", str(store), "--out", str(out), "--conf", str(conf)],
        env,
        tmp,
    )
    assert rep.returncode == 0, rep.stderr[-3000:]
    toy = (out / "tables" / "toy_smoke.csv").read_text().splitlines()
    assert toy[0].startswith("protocol,model,label,final_test_mse") and len(toy) == 3
    assert (out / "figures" / "toy_smoke.png").read_bytes()[:4] == b"\x89PNG"
    assert ",tiny,Tiny net," in (out / "tables" / "fit1d_smoke.csv").read_text()
    glance = (out / "tables" / "glance_smoke.csv").read_text()
    assert "toy,sine" in glance and "Tiny net" in glance
    assert git_status() == before  # nothing of this checkout was edited (or written)
