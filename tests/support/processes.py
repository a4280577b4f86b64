"""Process-tree helpers: what a server started, and whether any of it is still alive."""

from __future__ import annotations

import os
from pathlib import Path


def _ppid_map() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command may contain spaces and parentheses: the fields after the last ')' are fixed.
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(pid: int) -> set[int]:
    """Living (non-zombie) descendants of `pid`."""
    parents = _ppid_map()
    found, frontier = set(), {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier}
        frontier = children - found
        found |= children
    return found


def alive(pids: set[int]) -> set[int]:
    parents = _ppid_map()
    return {pid for pid in pids if pid in parents}


def child_server_pid() -> int:
    """The cua-mcp server process this test process spawned most recently.

    By start time, not by pid: after a long run the pids wrap around, and the newest server can have
    a lower pid than one a module fixture started earlier."""
    candidates = [
        pid
        for pid, parent in _ppid_map().items()
        if parent == os.getpid() and b"cua-mcp" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert candidates, "no cua-mcp child process"
    return max(candidates, key=_start_time)


def _start_time(pid: int) -> int:
    """When the process started, in clock ticks since boot (field 22 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[19])


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def resident_mb(pid: int, peak: bool = False) -> float:
    """The process's resident memory (VmRSS) in MB; with `peak`, the most it ever held (VmHWM)."""
    field = "VmHWM:" if peak else "VmRSS:"
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"process {pid} reports no {field}")
