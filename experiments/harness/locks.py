"""Locks on trials, so that sweeps sharing one result store never train a trial twice.

A process claims a trial by creating `<store>/<experiment>/.<key>.lock`, holding the owner's host,
PID and start time: written whole to a temporary file first, then hard-linked into place, which fails
if the lock exists and is atomic on local file systems and on NFS; so a lock is never empty or half
written, and one whose owner cannot be read is stale at once. A lock that cannot be written (a full
disk) is a StoreError naming the store and the cause, and leaves no file behind. While the owner trains, a thread touches its lock files every HEARTBEAT_S seconds. A
lock is stale, and is taken over, when its owner's process is gone (same host) or it has not
been touched for STALE_S seconds (any host: a node that died). A takeover is serialised by a
second lock file, so two processes never both take over one stale claim.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

HEARTBEAT_S = 60.0
STALE_S = 600.0  # ten missed heartbeats: the owner is gone even if its PID was reused
TAKEOVER_STALE_S = 60.0  # a takeover lock left by a process killed mid-takeover

log = logging.getLogger(__name__)


def lock_path(record_path: Path) -> Path:
    """<experiment>/<key>.json -> <experiment>/.<key>.lock (hidden: not a record)."""
    return record_path.with_name(f".{record_path.stem}.lock")


def owner(path: Path) -> dict:
    """The lock's owner as written ({} when unreadable, e.g. half-written by a killed process)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def is_stale(path: Path) -> bool:
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return True
    if age > STALE_S:
        return True
    who = owner(path)
    if who.get("host") == socket.gethostname() and isinstance(who.get("pid"), int):
        return not _alive(who["pid"])
    return not who  # unreadable: no lock of ours is ever half written (see _create), so nobody holds it


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _unwritable(path: Path, error: OSError):
    from experiments.harness.store import StoreError

    store = path.parent.parent
    return StoreError(
        f"cannot claim a trial in the result store {store}: {error.strerror or error} ({path.name}); free space "
        f"there or point paths.store_dir elsewhere, then run again: finished trials are kept"
    )


class TrialLocks:
    """The trials this process holds: acquire(path) before training, release() after (also on error)."""

    def __init__(self):
        self.held: list[Path] = []
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self._me = {"host": socket.gethostname(), "pid": os.getpid()}

    def acquire(self, record_path: Path) -> bool:
        """True if this process now holds the trial of record_path; False if another live one does."""
        path = lock_path(record_path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _unwritable(path, e) from None
        for _ in range(3):
            if self._create(path):
                self.held.append(path)
                self._start_heartbeat()
                return True
            if not is_stale(path):
                return False
            self._take_over(path)
        return False

    def _create(self, path: Path) -> bool:
        """Write the claim whole beside the lock, then link it into place: False if the lock exists."""
        data = json.dumps({**self._me, "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}).encode()
        tmp = path.with_name(f"{path.name}.{self._me['pid']}.{threading.get_ident()}.tmp")
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError as e:
            raise _unwritable(path, e) from None
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        return True

    def _take_over(self, path: Path) -> None:
        """Remove a stale lock, under a takeover lock so that only one process does it."""
        guard = path.with_name(path.name + ".takeover")
        if guard.exists() and time.time() - guard.stat().st_mtime > TAKEOVER_STALE_S:
            guard.unlink(missing_ok=True)
        try:
            fd = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            time.sleep(0.2)  # another process is taking it over; look again
            return
        except OSError as e:
            raise _unwritable(path, e) from None
        os.close(fd)
        try:
            if is_stale(path):  # still stale now that we alone may remove it
                log.warning("taking over the stale claim %s (%s)", path, owner(path) or "unreadable")
                path.unlink(missing_ok=True)
        finally:
            guard.unlink(missing_ok=True)

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        for path in self.held:
            path.unlink(missing_ok=True)
        self.held.clear()

    def _start_heartbeat(self) -> None:
        if self._beat is None:
            self._beat = threading.Thread(target=self._heartbeat, daemon=True, name="trial-locks-heartbeat")
            self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            for path in list(self.held):
                with contextlib.suppress(FileNotFoundError):
                    os.utime(path)

    def __enter__(self) -> TrialLocks:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
