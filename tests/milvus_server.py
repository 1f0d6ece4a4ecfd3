"""A real Milvus standalone server (2.3.5, from the ``milvus`` wheel on PyPI) for integration tests, without Docker.

The wheel carries the server's binaries, lzma-packed, with every library they link except glibc. They are unpacked
once into a cache folder; each server then gets its own data folder and a config with a fresh loopback port for every
listener, the embedded etcd's client and peer ports included (the wheel's own launcher leaves those at 2379/2380, so
two of its servers collide). ``milvus run standalone`` runs as its own process in its own session, so a Ctrl+C
reaches pytest only and the fixture's teardown stops it; it is killed with the test process if that dies first
(``PR_SET_PDEATHSIG``), so no server outlives a run. Ports are chosen and bound under one machine-wide file lock, so
parallel workers and parallel runs never pick the same ones.

A server that cannot start fails the tests that need it when ``CI`` is set (with the end of its log) and skips them
otherwise.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
from filelock import FileLock

VERSION = "2.3.5"
STARTUP_TIMEOUT_S = 120.0
STOP_GRACE_S = 3.0
PORTS_LOCK = Path(tempfile.gettempdir()) / "chuchu-milvus-ports.lock"
_PR_SET_PDEATHSIG = 1


class ServerStartError(RuntimeError):
    """The server could not be started; the message ends with its log."""


@dataclass
class RunningServer:
    """A started server process, its URI (``http://127.0.0.1:PORT``) and its data folder."""

    process: subprocess.Popen[bytes]
    uri: str
    data_dir: Path

    @property
    def log(self) -> Path:
        """The server's standard output and error."""
        return self.data_dir / "logs" / "server.log"

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log."""
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period: 2.3.5 stops at once when idle (ending with SIGABRT after its
        cleanup), but with loaded collections its query coordinator waits on the already stopped root coordinator
        for well over 30 s, and the data folder is temporary anyway."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def unpack_binaries(cache: Path) -> Path:
    """The folder of the server's binaries, unpacked from the wheel into ``cache`` unless already there."""
    import milvus

    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(cache / "unpack.lock"):
        milvus._initialize_data_files(str(cache))  # skips files whose checksum is unchanged
    return cache / "bin"


def _free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that were free a moment ago."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _write_configs(data_dir: Path) -> tuple[dict[str, str], int]:
    """Write the server's config into ``data_dir``; its environment and its client port."""
    import milvus

    keys = [key for key in milvus.MilvusServerConfig().configurable_items if key.endswith("_port")]
    *ports, etcd_peer, metrics = _free_ports(len(keys) + 2)
    chosen = dict(zip(keys, ports, strict=True))
    milvus.MilvusServerConfig(data_dir=str(data_dir), **chosen).resolve()  # configs/milvus.yaml, logs/, data/
    client, peer = f"http://127.0.0.1:{chosen['etcd_port']}", f"http://127.0.0.1:{etcd_peer}"
    etcd = data_dir / "configs" / "embed-etcd.yaml"
    etcd.write_text(
        f"name: default\nlisten-client-urls: {client}\nadvertise-client-urls: {client}\n"
        f"listen-peer-urls: {peer}\ninitial-advertise-peer-urls: {peer}\ninitial-cluster: default={peer}\n",
        encoding="utf-8",
    )
    # Milvus reads settings from the environment too, over the files: pass only what it needs.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data_dir),
        "DEPLOY_MODE": "STANDALONE",
        "MILVUSCONF": f"{data_dir / 'configs'}/",
        "ETCD_CONFIG_PATH": str(etcd),
        "METRICS_PORT": str(metrics),
        "MILVUS_RUN_DIR": str(data_dir / "run"),
    }
    return env, chosen["proxy_port"]


def _die_with_parent() -> Callable[[], None]:
    """A hook for the child between fork and exec: the kernel kills the child when the test process exits."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the forked child only calls it
    return lambda: prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _wait_ready(server: RunningServer, metrics_port: int, deadline: float) -> None:
    """Return once ``/healthz`` says OK and the proxy answers; raise ServerStartError otherwise."""
    from pymilvus import MilvusClient

    url = f"http://127.0.0.1:{metrics_port}/healthz"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerStartError(f"the server exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if b"OK" in response.read():
                    MilvusClient(uri=server.uri, timeout=10).get_server_version()
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise ServerStartError(f"no answer in {STARTUP_TIMEOUT_S:.0f} s:\n{server.log_tail()}")


def start_server(data_dir: Path, bin_dir: Path) -> RunningServer:
    """Start a server with its data in ``data_dir`` and wait until it answers."""
    with FileLock(PORTS_LOCK, timeout=2 * STARTUP_TIMEOUT_S):  # held until our ports are bound by the server
        env, port = _write_configs(data_dir)
        env["LD_LIBRARY_PATH"] = str(bin_dir)
        (data_dir / "logs").mkdir(exist_ok=True)
        with open(data_dir / "logs" / "server.log", "wb") as log:
            process = subprocess.Popen(
                [str(bin_dir / "milvus"), "run", "standalone"],
                cwd=data_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent(),
            )
        server = RunningServer(process, f"http://127.0.0.1:{port}", data_dir)
        try:
            _wait_ready(server, int(env["METRICS_PORT"]), time.monotonic() + STARTUP_TIMEOUT_S)
        except BaseException:
            server.stop()
            raise
    return server


def unavailable(reason: str) -> NoReturn:
    """A failure in CI (``CI`` set to a true value), a skip elsewhere."""
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(f"Milvus server: {reason}", pytrace=False)
    pytest.skip(f"Milvus server: {reason}")


def binaries(cache: Path) -> Path:
    """The folder of the server's binaries (unpacked into ``cache`` once); unavailable where the wheel is not."""
    if not sys.platform.startswith("linux"):
        unavailable(f"the milvus {VERSION} wheel runs on Linux only")
    try:
        return unpack_binaries(cache)
    except ImportError as error:
        unavailable(f"{error}: install milvus=={VERSION} and pymilvus (the dev extras)")


def serve(data_dir: Path, bin_dir: Path) -> Iterator[str]:
    """Start a server, yield its URI, stop it: the body of the session fixture."""
    try:
        server = start_server(data_dir, bin_dir)
    except (ServerStartError, OSError, ImportError) as error:
        failure = f"failed to start in {data_dir}: {error}"
    else:
        failure = ""
    if failure:
        unavailable(failure)  # outside the handler, so the report is this message alone
    try:
        yield server.uri
    finally:
        server.stop()
