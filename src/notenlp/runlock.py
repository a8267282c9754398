"""One night at a time per home and per warehouse file: a lock file held for as long as the night runs.

Two nights on one home overwrite each other's staging partitions, and two on one warehouse race for
DuckDB's file lock (the loser failing with a trace mid-load). ``night_lock`` takes an exclusive
``flock`` on ``<home>/.notenlp-night.lock`` and on ``<warehouse>.night.lock`` before any work; the
second night is refused at once with one line naming the running night (pid, host, start, night
date, stage). The kernel drops a ``flock`` when its process dies, so a lock file that still names a
night nobody holds is stale: it is taken over with a warning.

The lock is re-entrant within a process: ``run_night`` holds it across its stages and each
``run_stage`` inside it finds it already held.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from notenlp.config import ConfigError

log = logging.getLogger(__name__)
HOME_LOCK = ".notenlp-night.lock"
_held: dict[Path, tuple[int, dict[str, Any]]] = {}  # lock files this process holds: (fd, holder)


class NightLocked(ConfigError):
    """Another night holds the lock of this home or warehouse."""


def lock_paths(settings) -> list[Path]:
    """The home's lock file and the warehouse file's (homes may share a warehouse)."""
    home = Path(settings.home) / HOME_LOCK
    warehouse = Path(settings.warehouse)
    return [home, warehouse.with_name(warehouse.name + ".night.lock")]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def describe(holder: dict[str, Any]) -> str:
    """'night 2026-12-07 (stage ingest, pid 4242 on host, started 2026-12-07 19:36:47 UTC)'."""
    stage = f"stage {holder['stage']}, " if holder.get("stage") else ""
    return (f"night {holder.get('run_date', '?')} ({stage}pid {holder.get('pid', '?')} on {holder.get('host', '?')}, "
            f"started {holder.get('started', '?')})")


def _read_holder(fd: int) -> dict[str, Any]:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 4096)
    try:
        holder = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        holder = {}
    return holder if isinstance(holder, dict) else {}


def _write_holder(fd: int, holder: dict[str, Any]) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, json.dumps(holder).encode("utf-8"))
    os.fsync(fd)


@contextmanager
def _one_lock(path: Path, holder: dict[str, Any]) -> Iterator[None]:
    import fcntl

    path = path.resolve()
    if path in _held:  # this process holds it (run_night around its stages): name the stage now running
        fd, outer = _held[path]
        _write_holder(fd, {**outer, "stage": holder.get("stage") or outer.get("stage")})
        try:
            yield
        finally:
            _write_holder(fd, outer)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            running = _read_holder(fd)
            raise NightLocked(f"{path.parent} is in use by {describe(running)}; wait for it to finish or stop "
                              f"that process (lock file {path})") from None
        stale = _read_holder(fd)
        if stale:  # written by a night that ended without releasing it: it was killed
            alive = isinstance(stale.get("pid"), int) and stale.get("host") == socket.gethostname() \
                and _pid_alive(stale["pid"])
            log.warning("taking over the stale lock %s of %s: %s", path, describe(stale),
                        "that process no longer holds it" if alive else "that process is gone")
        _write_holder(fd, holder)
        _held[path] = (fd, holder)
        try:
            yield
        finally:
            del _held[path]
            os.ftruncate(fd, 0)  # released cleanly: an empty file is no stale lock
    finally:
        os.close(fd)  # closing drops the flock


def holds(settings) -> bool:
    """True when this process already holds the night lock of ``settings``' home."""
    return lock_paths(settings)[0].resolve() in _held


@contextmanager
def night_lock(settings, run_date, stage: str | None = None) -> Iterator[None]:
    """Hold the home's and the warehouse's night lock; ``NightLocked`` (one line) when another night has one."""
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "run_date": str(run_date), "stage": stage,
              "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")}
    with ExitStack() as stack:
        for path in dict.fromkeys(lock_paths(settings)):
            stack.enter_context(_one_lock(path, holder))
        yield
