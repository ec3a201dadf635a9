"""Trials resumed from their checkpoints after a SIGKILL end exactly where an uninterrupted run ends:
mid-Adam, mid-L-BFGS, mid-group of vectorised seeds; stale and unreadable checkpoints are not trusted."""

import os
import subprocess
import sys

import pytest
import torch

from experiments.harness.store import ResultStore

# A child process that kills itself (SIGKILL: no cleanup, as a machine that goes away) right after its
# GMNM_KILL_AFTER_SAVES-th checkpoint is written.
KILLER = """
import os, signal
if os.environ.get("GMNM_KILL_AFTER_SAVES"):
    from experiments.harness import checkpoint
    _left, _save = [int(os.environ["GMNM_KILL_AFTER_SAVES"])], checkpoint.Checkpoint.save
    def save(self, state):
        _save(self, state)
        _left[0] -= 1
        if _left[0] == 0:
            os.kill(os.getpid(), signal.SIGKILL)
    checkpoint.Checkpoint.save = save
"""
SAVE_ALWAYS = "trainer.checkpoint_every_s=1e-9"  # a checkpoint at every evaluation


def run(tmp_path, store, overrides, kill_after: int | None = None) -> subprocess.CompletedProcess:
    (tmp_path / "inject").mkdir(exist_ok=True)
    (tmp_path / "inject" / "sitecustomize.py").write_text(KILLER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "inject"), os.environ.get("PYTHONPATH", "")])}
    if kill_after:
        env["GMNM_KILL_AFTER_SAVES"] = str(kill_after)
    cmd = [sys.executable, "-m", "experiments.run", f"paths.store_dir={store}", f"paths.log_dir={tmp_path / 'logs'}",
           "trainer.device=cpu", "trainer.progress=false", *overrides]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)


def finished(store) -> dict:
    return {r["seed"]: r for r in ResultStore(store).records()}


def same_training(a: dict, b: dict) -> None:
    """Bit-identical histories and metrics (timings aside: they are the machine's)."""
    assert a["key"] == b["key"] and a["history"] == b["history"]
    metrics = [k for k in a["summary"] if k.startswith(("final_", "min_"))]
    assert metrics and {k: a["summary"][k] for k in metrics} == {k: b["summary"][k] for k in metrics}


ADAM = ["trainer.steps=20", "trainer.eval_every=10"]  # saves at steps 10 and 20
LBFGS = ["trainer.finetune.steps=4", "trainer.finetune.eval_every=1"]  # then at 21, 22, ...
CASES = {  # overrides, the checkpoint after which the process is killed
    "mid-Adam": (["experiment=fit2d", "model=gmnm", "profile=smoke", *ADAM], 1),
    "mid-L-BFGS": (["experiment=poisson", "model=pinn", "profile=smoke", *ADAM, *LBFGS], 4),  # at step 22
    "mid-group": (
        ["experiment=fit2d", "model=gmnm", "profile=smoke", *ADAM, "seed_group=[0,1,2]", "trainer.vectorize=true"],
        1,
    ),  # fmt: skip
    # the group saves at 10, 20 and at the stack's end; then seed 0's own L-BFGS at 21, 22: killed there
    "mid-group, L-BFGS per seed": (
        [
            "experiment=poisson",
            "model=pinn",
            "profile=smoke",
            *ADAM,
            *LBFGS,
            "seed_group=[0,1]",
            "trainer.vectorize=true",
        ],
        5,
    ),  # fmt: skip
}


@pytest.mark.parametrize("case", CASES)
def test_a_killed_trial_resumes_and_ends_bit_identical(tmp_path, case):
    overrides, kills = CASES[case]
    store = tmp_path / "store"
    killed = run(tmp_path, store, [*overrides, SAVE_ALWAYS], kill_after=kills)
    assert killed.returncode == -9 and finished(store) == {}  # killed before any record was written
    assert list(store.rglob(".*.ckpt"))  # its training state, beside the records
    resumed = run(tmp_path, store, [*overrides, SAVE_ALWAYS])
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stderr + resumed.stdout
    alone = run(tmp_path, tmp_path / "alone", [*overrides, SAVE_ALWAYS])  # the same, never interrupted
    assert alone.returncode == 0, alone.stderr
    mine, theirs = finished(store), finished(tmp_path / "alone")
    group = next((o.split("=")[1] for o in overrides if o.startswith("seed_group=")), "[0]")
    assert sorted(mine) == sorted(theirs) == [int(s) for s in group.strip("[]").split(",")]
    for seed in mine:
        same_training(mine[seed], theirs[seed])
        # the killed process's training counts in the resumed trial's cost; an uninterrupted one has none before
        assert mine[seed]["summary"]["wall_time_before_s"] > 0 == theirs[seed]["summary"]["wall_time_before_s"]
    assert list(store.rglob(".*.ckpt")) == []  # removed once the records are written


def test_unreadable_and_stale_checkpoints_are_not_trusted(tmp_path):
    overrides = ["experiment=fit2d", "model=gmnm", "profile=smoke", "trainer.steps=40", "trainer.eval_every=10"]
    store = tmp_path / "store"
    killed = run(tmp_path, store, [*overrides, SAVE_ALWAYS], kill_after=2)
    assert killed.returncode == -9
    [ckpt] = store.rglob(".*.ckpt")
    saved = torch.load(ckpt, weights_only=False)
    saved["meta"]["torch"] = "1.0"  # made by another torch: its numbers need not match this one's
    torch.save(saved, ckpt)
    stale = run(tmp_path, store, overrides)
    assert stale.returncode == 0 and "ignoring the stale checkpoint" in stale.stderr + stale.stdout
    assert "torch '1.0' here" in stale.stderr + stale.stdout
    first = finished(store)[0]
    assert first["history"][0]["step"] == 0 and len(first["history"]) == 5  # trained from step 0
    # a torn file: warned about, ignored
    store2 = tmp_path / "store2"
    run(tmp_path, store2, [*overrides, SAVE_ALWAYS], kill_after=2)
    [ckpt] = store2.rglob(".*.ckpt")
    ckpt.write_bytes(ckpt.read_bytes()[:100])
    torn = run(tmp_path, store2, overrides)
    assert torn.returncode == 0 and "ignoring the unreadable checkpoint" in torn.stderr + torn.stdout
    same_training(finished(store2)[0], first)


def test_ctrl_c_ends_a_sweep_in_one_line_with_exit_130_and_the_next_run_goes_on(tmp_path):
    import signal
    import subprocess
    import time

    from conftest import command

    # a short trial, then one of 2,000 steps (seconds even on a fast machine) to interrupt
    cmd = command(tmp_path, "experiment=fit1d", "model=mlp_tanh", "profile=smoke", "task.level=0",
                  "scale.steps=0.01,0.1", "scale.max_steps=2000", "trainer.progress=false",
                  "trainer.checkpoint_every_s=0.2", multirun=True)  # fmt: skip
    # Ctrl-C's default action, even where pytest runs as a background job (which inherits SIGINT ignored)
    default_sigint = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint
    )
    deadline = time.monotonic() + 180
    store = tmp_path / "store" / "fit1d"

    def training_the_second() -> bool:  # the first level's record written and the second's checkpoint saved:
        done = {p.stem for p in store.glob("*.json")}  # mid-training, not mid-launch
        return bool(done) and any(p.name[1:-5] not in done for p in store.glob(".*.ckpt"))

    while not training_the_second():
        assert proc.poll() is None and time.monotonic() < deadline, "the sweep ended before it could be interrupted"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=60)[1]
    lines = [x for x in err.strip().splitlines() if not x.startswith("[")]  # Hydra's log lines aside
    assert proc.returncode == 130 and len(lines) <= 3 and "Traceback" not in err, err[-2000:]
    assert lines[-1] == "interrupted: finished trials are kept; the same command resumes the rest"
    again = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "skip fit1d/" in again.stderr + again.stdout
    assert len(list((tmp_path / "store").glob("fit1d/*.json"))) == 2
