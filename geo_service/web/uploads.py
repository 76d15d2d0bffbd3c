"""Temporary folders of uploads, and cleaning up the ones a killed server left behind.

An upload is written to ``<tmp>/geo-upload-<pid>-<random>/`` while it is ingested; the
folder goes when the ingest ends. A server killed with ``kill -9`` (or the OOM killer) in the
middle of one leaves its folder, up to the upload limit in size, every time. At start the
app removes folders that are older than ``Settings.stale_upload_age_s`` and not held by a
live process (:func:`clean_stale_upload_dirs`).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

UPLOAD_PREFIX = "geo-upload-"
_OWNER = re.compile(rf"^{UPLOAD_PREFIX}(\d{{1,10}})-")
#: Clock slack when comparing a process's start with a folder's time (btime has 1 s steps).
_SLACK_S = 2.0


def upload_dir() -> tempfile.TemporaryDirectory[str]:
    """Return a temporary folder for one upload, named with this process's id."""
    return tempfile.TemporaryDirectory(prefix=f"{UPLOAD_PREFIX}{os.getpid()}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    except (OSError, OverflowError):
        return False
    return True


def _started_at(pid: int) -> float | None:
    """Return when process ``pid`` started (epoch seconds), from ``/proc``; None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        # Field 22 (starttime, clock ticks after boot); the name in field 2 may hold spaces.
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _held(name: str, made_at: float) -> bool:
    """Whether the process named in the folder may still be using it.

    Its id must be alive and must not belong to a process started after the folder was made:
    in a container the restarted server often gets the id of the one that was killed.
    """
    match = _OWNER.match(name)
    if match is None:
        return False  # no owner recorded (folders of older versions)
    pid = int(match.group(1))
    if not _alive(pid):
        return False
    started = _started_at(pid)
    return started is None or started <= made_at + _SLACK_S


def _last_change(folder: Path) -> float:
    times = [folder.stat().st_mtime]
    for entry in folder.iterdir():
        try:
            times.append(entry.lstat().st_mtime)
        except OSError:
            continue
    return max(times)


def clean_stale_upload_dirs(
    root: Path | None = None, *, max_age_s: float = 3600, now: float | None = None
) -> list[Path]:
    """Remove upload folders left by a killed server; return the folders removed.

    Parameters
    ----------
    root
        Where upload folders are made (default: :func:`tempfile.gettempdir`).
    max_age_s
        A folder is removed only when nothing in it changed for this long, and the process
        named in it is gone (or is a later process with the same id).
    now
        The current time (epoch seconds; default: now).
    """
    base = Path(tempfile.gettempdir()) if root is None else root
    clock = time.time() if now is None else now
    removed: list[Path] = []
    for folder in base.glob(f"{UPLOAD_PREFIX}*"):
        try:
            if folder.is_symlink() or not folder.is_dir():
                continue
            changed = _last_change(folder)
            if clock - changed < max_age_s or _held(folder.name, folder.stat().st_mtime):
                continue
            shutil.rmtree(folder)
        except OSError as exc:  # another process's folder, or removed meanwhile
            log.warning("could not remove stale upload folder %s: %s", folder, exc)
            continue
        log.warning("removed stale upload folder %s (left by a stopped server)", folder)
        removed.append(folder)
    return removed
