"""LibreOffice's memory across snapshots of a Calc window: each read of a sheet's visible cells
makes LibreOffice build an object per cell, which it does not free.

    .venv/bin/python -m benchmarks.libreoffice_memory [--backend dbus|pyatspi|uno] [--reads 50]

Starts a sandbox desktop (1920x1080) with Calc showing a sheet of data, reads the Calc window
`--reads` times with the chosen backend, and prints soffice's resident memory (VmRSS) before, along
the way, and 20 s after the last read; then the same number of `find(role="push button")` searches,
which leave the cells out. `uno`: Calc is the server's own LibreOffice (apps/office), whose sheets'
visible cells snapshots read through UNO instead of AT-SPI (the rest of the window over D-Bus).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import time
from pathlib import Path

from cua_mcp.accessibility.search import Query
from cua_mcp.accessibility.service import Accessibility
from cua_mcp.apps.office import Office
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.sandbox.session import SandboxConfig
from tests.support.apps import CALC_ROWS, launch_calc
from tests.support.processes import resident_mb


async def _measure(backend: str, reads: int) -> None:
    desktop = Desktop.start_sandbox(SandboxConfig(width=1920, height=1080))
    office = Office(desktop.launcher)
    try:
        assert desktop.session is not None
        if backend == "uno":
            await office.open(None, "calc")
            await office.call("calc_set_cells", area="A1", values=[list(row) for row in CALC_ROWS])
            a11y = Accessibility(desktop, timeout=10, sheets=office)
        else:
            launch_calc(desktop.session)
            a11y = Accessibility(desktop, backend=backend, timeout=10)
        deadline = time.monotonic() + 120
        while not any(n.role == "table cell" for n, _ in (await a11y.snapshot("desktop")).nodes()):
            if time.monotonic() > deadline:
                raise SystemExit("Calc's cells did not show up")
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)
        # This desktop's soffice.bin: the one whose environment names its display.
        soffice = next(pid for pid in soffice_pids() if _display_of(pid) == desktop.display)
        start = resident_mb(soffice)
        print(f"{backend}: soffice {start:.0f} MB before")
        for read in range(1, reads + 1):
            await a11y.snapshot("soffice")
            if read % max(1, reads // 5) == 0 or read == reads:
                print(f"  after {read} reads of the window with its cells: {resident_mb(soffice):.0f} MB")
        await asyncio.sleep(20)
        idle = resident_mb(soffice)
        print(f"  20 s later: {idle:.0f} MB ({(idle - start) / reads:.1f} MB a read)")
        for _ in range(reads):
            await a11y.find("soffice", Query(role="push button"))
        print(f"  after {reads} find(role='push button'): {resident_mb(soffice):.0f} MB")
        a11y.close()
    finally:
        office.stop()
        desktop.close()


def soffice_pids() -> list[int]:
    return [int(pid) for pid in subprocess.run(["pgrep", "soffice.bin"], capture_output=True, text=True).stdout.split()]


def _display_of(pid: int) -> str | None:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    return next((e[8:].decode() for e in environ if e.startswith(b"DISPLAY=")), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("dbus", "pyatspi", "uno"), default="dbus")
    parser.add_argument("--reads", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(_measure(args.backend, args.reads))


if __name__ == "__main__":
    main()
