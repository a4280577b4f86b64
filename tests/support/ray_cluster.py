"""A real Ray cluster of two nodes on this machine, started and stopped by a test.

Each node is `ray start --block` in its own process group with its own --temp-dir, so a node is
stopped (or killed mid-run, to test failures) by signalling its group: never `ray stop`, which stops
every Ray process of the user, other people's tests included.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.http_server import free_port

RAY = str(Path(sys.executable).with_name("ray"))
# Ray replaces 127.0.0.1 (and localhost) by the machine's network address; another loopback address it takes
# as given, so every node, worker and driver talks over loopback only.
NODE_IP = "127.0.0.2"
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0"}
_PORTS = ["dashboard-agent-listen-port", "dashboard-agent-grpc-port", "metrics-export-port", "runtime-env-agent-port"]
_NODE_ARGS = [
    "--num-cpus=1",
    "--object-store-memory=100000000",
    '--resources={"desktop": 1}',
    "--disable-usage-stats",
    "--block",
]


class NodeExited(RuntimeError):
    """A node's `ray start` ended while the cluster was coming up."""


class RayNode:
    def __init__(self, args: list[str], temp_dir: Path, log: Path) -> None:
        self.temp_dir = temp_dir
        self.log = log
        self._log = log.open("wb")
        # Two nodes on one address: ports Ray would give both the same default (the dashboard agent's) are
        # chosen here, free, one set per node.
        ports = [f"--{name}={free_port()}" for name in _PORTS]
        env = {**os.environ, **RAY_ENV}
        self.process = subprocess.Popen(
            [RAY, "start", *args, *ports, f"--temp-dir={temp_dir}", *_NODE_ARGS],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal every process of this node (its group), as a machine that is lost."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)
            self.process.wait(timeout=10)
        # Workers and daemons that left the group (none should) would be orphans: take down what is left.
        self.kill(signal.SIGKILL)
        self._log.close()


class RayCluster:
    """`with RayCluster(tmp) as cluster:` a head and a worker node, each declaring one desktop."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.address = f"{NODE_IP}:{self.port}"
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.nodes: list[RayNode] = []
        self._temp_dirs: list[Path] = []

    def __enter__(self) -> RayCluster:
        try:
            head = ["--head", f"--port={self.port}", "--include-dashboard=false", f"--node-ip-address={NODE_IP}"]
            self.nodes.append(self._node(head, "head"))
            self.wait_for_nodes(1)
            for attempt in range(3):
                # On a loaded machine the worker's first call to the head can miss Ray's deadline and the
                # worker gives up: start it again.
                self.nodes.append(self._node([f"--address={self.address}", f"--node-ip-address={NODE_IP}"], "worker"))
                try:
                    self.wait_for_nodes(2)
                    break
                except NodeExited:
                    if attempt == 2:
                        raise
                    self.nodes.pop().stop()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for node in self.nodes:  # all at once: a worker left alone keeps trying to reach its head
            node.kill(signal.SIGTERM)
        for node in reversed(self.nodes):
            node.stop()
        for path in self._temp_dirs:
            shutil.rmtree(path, ignore_errors=True)

    def _node(self, args: list[str], name: str) -> RayNode:
        # Short, private paths: Ray puts Unix sockets under --temp-dir, whose paths are length-limited.
        temp = Path(tempfile.mkdtemp(prefix=f"ray{name[0]}", dir="/tmp"))
        self._temp_dirs.append(temp)
        return RayNode(args, temp, self.log_dir / f"ray-{name}.log")

    def alive_nodes(self) -> list[dict]:
        """The cluster's live nodes as Ray lists them (asked through a separate driver process)."""
        script = (
            "import json, sys, ray; ray.init(address=sys.argv[1], _node_ip_address=sys.argv[2], logging_level='ERROR'); "
            "print('NODES', json.dumps([{'id': n['NodeID'], 'resources': n['Resources']} for n in ray.nodes() if n['Alive']]))"
        )
        argv = [sys.executable, "-c", script, self.address, NODE_IP]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120, env={**os.environ, **RAY_ENV})
        # Ray may log to stdout too: the answer is the line marked NODES.
        lines = [line for line in out.stdout.splitlines() if line.startswith("NODES ")]
        return json.loads(lines[-1].removeprefix("NODES ")) if out.returncode == 0 and lines else []

    def wait_for_nodes(self, count: int, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for node in self.nodes:
                if node.process.poll() is not None:
                    tail = node.log.read_text(errors="replace")[-2000:]
                    raise NodeExited(f"a ray node exited ({node.log.name}):\n{tail}")
            if len(self.alive_nodes()) >= count:
                return
            time.sleep(1)
        raise TimeoutError(f"{count} ray node(s) did not come up in {timeout:g} s: see {self.log_dir}")
