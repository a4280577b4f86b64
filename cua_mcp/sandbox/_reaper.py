"""A watchdog that outlives nothing: it kills the sandbox's process groups when its parent dies.

Started as `python _reaper.py`; the sandbox writes one process-group id a line
to its stdin ("+123" to watch, "-123" to forget). When stdin reaches end of file (the parent
exited, was killed with SIGKILL, or closed the pipe on purpose) every group still watched gets
SIGTERM, then SIGKILL after a grace period. This is what makes "no orphans" hold even when the
server itself is killed without a chance to clean up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

GRACE_S = 2.0


def _alive(pgid: int) -> bool:
    """Whether the group has a living member. Zombies do not count: an orphan whose parent died is
    reaped by init, which may take its time, and a zombie holds nothing."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False


def kill_groups(pgids: set[int], grace: float = GRACE_S) -> None:
    """SIGTERM each process group, then SIGKILL whatever is left after `grace` seconds."""
    for pgid in pgids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in pgids):
        time.sleep(0.05)
    for pgid in pgids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


def main() -> None:
    # Ignore the terminal's Ctrl-C: the parent handles it and then closes our stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watched: set[int] = set()
    for line in sys.stdin:
        line = line.strip()
        if line.startswith("+"):
            watched.add(int(line[1:]))
        elif line.startswith("-"):
            watched.discard(int(line[1:]))
    kill_groups({p for p in watched if _alive(p)})


if __name__ == "__main__":
    main()
