"""Locks on trials: one process trains a trial, a stale lock is taken over, two sweeps share a store."""

import json
import os
import socket
import subprocess
import sys
import time

from experiments.harness import locks
from experiments.harness.locks import TrialLocks, is_stale, lock_path
from experiments.harness.store import ResultStore


def test_a_claimed_trial_is_refused_to_a_second_claimant(tmp_path):
    record = tmp_path / "fit2d" / "k1.json"
    with TrialLocks() as first:
        assert first.acquire(record)
        who = json.loads(lock_path(record).read_text())
        assert (who["host"], who["pid"]) == (socket.gethostname(), os.getpid())
        assert not TrialLocks().acquire(record)  # held by a live process (this one)
    assert not lock_path(record).exists()  # released
    assert TrialLocks().acquire(record)


def test_the_claim_of_a_dead_process_is_taken_over(tmp_path):
    record = tmp_path / "fit2d" / "k1.json"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock_path(record).parent.mkdir(parents=True)
    lock_path(record).write_text(json.dumps({"host": socket.gethostname(), "pid": int(dead.stdout)}))
    assert is_stale(lock_path(record))
    with TrialLocks() as taker:
        assert taker.acquire(record)
        assert json.loads(lock_path(record).read_text())["pid"] == os.getpid()


def test_a_claim_from_another_host_is_stale_only_once_its_heartbeat_stops(tmp_path):
    lock = tmp_path / ".k1.lock"
    lock.write_text(json.dumps({"host": "node-17", "pid": 1}))
    assert not is_stale(lock)  # another node's process: its PID says nothing here
    old = time.time() - locks.STALE_S - 1
    os.utime(lock, (old, old))
    assert is_stale(lock)


def test_heartbeat_keeps_a_held_claim_fresh(tmp_path, monkeypatch):
    monkeypatch.setattr(locks, "HEARTBEAT_S", 0.05)
    record = tmp_path / "k1.json"
    with TrialLocks() as holder:
        holder.acquire(record)
        old = time.time() - 1000
        os.utime(lock_path(record), (old, old))
        time.sleep(0.3)
        assert time.time() - lock_path(record).stat().st_mtime < 100


def test_two_sweeps_started_together_train_each_trial_once(tmp_path):
    # fit1d under smoke, two models x two levels, 300 steps each so that the sweeps overlap
    cmd = [
        sys.executable,
        "-m",
        "experiments.run",
        "--multirun",
        "experiment=fit1d",
        "profile=smoke",
        "trainer.steps=300",
        "model=gmnm,mlp_relu",
        "task.level=0,1",
        "trainer.device=cpu",
        f"paths.store_dir={tmp_path / 'store'}",
        f"paths.log_dir={tmp_path / 'logs'}",
    ]
    procs = [
        subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs[0][-2000:] + outs[1][-2000:]
    trained = [line for out in outs for line in out.splitlines() if "] - complete fit1d/" in line]
    records = list(ResultStore(tmp_path / "store").records())
    assert len(records) == 4 and len(trained) == 4  # 4 trials, 4 trainings between the two sweeps
    assert sorted(line.split("complete ")[1].split()[0] for line in trained) == sorted(
        f"fit1d/{r['key']}" for r in records
    )
    assert sum("claimed by" in out for out in outs) >= 1  # they did meet
    assert not list((tmp_path / "store").rglob("*.lock"))


def test_a_lock_whose_owner_cannot_be_read_is_stale_at_once(tmp_path):
    record = tmp_path / "fit2d" / "k1.json"
    lock_path(record).parent.mkdir(parents=True)
    lock_path(record).write_text("")  # what a process killed between create and write used to leave
    assert is_stale(lock_path(record))
    with TrialLocks() as taker:
        assert taker.acquire(record)  # taken over now, not after minutes
        assert json.loads(lock_path(record).read_text())["pid"] == os.getpid()
    assert sorted(p.name for p in record.parent.iterdir()) == []  # no temporary file left beside it


# Fault injection for a child process: os.open creating a file under GMNM_FULL_DISK fails with ENOSPC
# once GMNM_FULL_DISK_AFTER files have been created there, as on a disk that has just filled up.
FULL_DISK = """
import errno, os
_open, _root, _left = os.open, os.environ["GMNM_FULL_DISK"], [int(os.environ["GMNM_FULL_DISK_AFTER"])]
def _full(path, flags, *args, **kwargs):
    if flags & os.O_CREAT and os.path.abspath(os.fsdecode(path)).startswith(_root):
        if _left[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
        _left[0] -= 1
    return _open(path, flags, *args, **kwargs)
os.open = _full
"""


def test_a_full_disk_stops_the_sweep_with_one_line_and_leaves_no_file_behind(tmp_path):
    from conftest import command

    (tmp_path / "inject").mkdir()
    (tmp_path / "inject" / "sitecustomize.py").write_text(FULL_DISK)
    store = tmp_path / "store"
    sweep = command(tmp_path, "experiment=fit1d", "profile=smoke", "model=gmnm", "seed=0,1", multirun=True)

    def run(after: int | None) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(tmp_path / "inject"), os.environ.get("PYTHONPATH", "")]),
        }
        if after is not None:
            env.update(GMNM_FULL_DISK=str(store), GMNM_FULL_DISK_AFTER=str(after))
        return subprocess.run(sweep, capture_output=True, text=True, env=env, timeout=300)

    def leftovers() -> list[str]:
        return sorted(p.name for p in store.rglob("*") if p.is_file() and not p.name.endswith(".json"))

    full = run(0)  # no room for even the first claim
    assert full.returncode == 2 and "Traceback" not in full.stderr
    errors = [line for line in full.stderr.splitlines() if line.startswith("error:")]
    assert (
        errors
        == [
            f"error: cannot claim a trial in the result store {store}: No space left on device "
            f"({errors[0].split('(')[1]}"
        ]
        and "free space there or point paths.store_dir elsewhere" in errors[0]
    )
    assert "sweep: 0 of 8 trials in the store, 0 left to other processes training them, 8 not trained" in full.stderr
    assert not store.exists() or leftovers() == []  # no empty lock, no temporary file
    filling = run(3)  # room for the store's probe, then one trial's claim and record: the next record fails
    assert filling.returncode == 2 and "error: cannot write a record into the result store" in filling.stderr
    assert "sweep: 1 of 8 trials in the store, 0 left to other processes training them, 7 not trained" in filling.stderr
    assert leftovers() == [] and len(list(ResultStore(store).records())) == 1
    freed = run(None)  # the disk freed: the re-run trains the seven missing trials, and says all are there
    assert freed.returncode == 0 and "sweep: all 8 trials are in the store" in freed.stdout
    assert len(list(ResultStore(store).records())) == 8 and leftovers() == []


def test_the_sweeps_tally_blames_failures_only_when_a_trial_was_not_trained(tmp_path):
    from hydra_plugins.gmnm_seed_groups.seed_grouping_sweeper import tally

    store = ResultStore(tmp_path)
    planned = [(str(tmp_path), "fit1d", key) for key in ("aaaa", "bbbb")]

    def claim(key: str) -> None:  # a live claim: this very process holds it
        path = lock_path(store.path("fit1d", key))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}))

    claim("aaaa")
    line, complete = tally(planned)
    assert not complete and line == (
        "sweep: 0 of 2 trials in the store, 1 left to other processes training them, 1 not trained "
        "(see the errors above); run the sweep again for the missing ones"
    )
    claim("bbbb")
    line, complete = tally(planned)
    assert not complete and line == (
        "sweep: 0 of 2 trials in the store; the other 2 are being trained by other processes, which write "
        "their records when they end"
    )
