"""Background processes tracked by pid files (``<var>/run/<name>.pid``)."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Component:
    name: str
    argv: Sequence[str]
    ready: Callable[[], bool]
    env: Mapping[str, str] = field(default_factory=dict)


def tcp_ready(port: int, host: str = "127.0.0.1") -> Callable[[], bool]:
    def probe() -> bool:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            return False

    return probe


def http_ready(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            return httpx.get(url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    return probe


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


_GIVEN: set[int] = set()


def free_port() -> int:
    """A free port for a server to listen on, chosen *below* the kernel's ephemeral range:
    a port from ``bind(0)`` is an ephemeral one, and between this call and the server's own
    bind an outgoing connection of any process may take it (seen: a service of the test
    stacks failing with "address already in use"). Falls back to ``bind(0)``."""
    low, _ = _ephemeral_range()
    start = 20000 if low > 21000 else 1024
    end = low if low > start + 1000 else 20000
    for _ in range(50):
        port = random.randrange(start, end)
        if port in _GIVEN:  # handed out already, perhaps not listening yet
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN.add(port)
        return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        found: int = s.getsockname()[1]
        return found


class ProcessManager:
    def __init__(self, var_dir: Path) -> None:
        self.run_dir = var_dir / "run"
        self.log_dir = var_dir / "log"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def pid(self, name: str) -> int | None:
        path = self.pid_file(name)
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def start(self, comp: Component) -> tuple[int, bool]:
        """Start unless already running; returns (pid, started_now)."""
        running = self.pid(comp.name)
        if running is not None:
            return running, False
        env = {**os.environ, **comp.env}
        with self.log_file(comp.name).open("ab") as log:
            proc = subprocess.Popen(
                list(comp.argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        self.pid_file(comp.name).write_text(f"{proc.pid}\n")
        return proc.pid, True

    def wait_ready(self, comp: Component, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if comp.ready():
                return
            if self.pid(comp.name) is None:
                raise RuntimeError(
                    f"{comp.name} exited; see {self.log_file(comp.name)}:\n"
                    + _tail(self.log_file(comp.name))
                )
            time.sleep(0.2)
        raise TimeoutError(
            f"{comp.name} not ready after {timeout:.0f}s; see {self.log_file(comp.name)}:\n"
            + _tail(self.log_file(comp.name))
        )

    def stop(self, name: str, timeout: float = 15.0, sig: int = signal.SIGTERM) -> bool:
        """Stop the process group recorded in the pid file (and nothing else)."""
        pid = self.pid(name)
        self.pid_file(name).unlink(missing_ok=True)
        if pid is None:
            return False
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                return True
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        return True

    def pause(self, name: str) -> None:
        """Freeze the process (SIGSTOP): it keeps its state but answers nobody."""
        pid = self.pid(name)
        if pid is not None:
            os.killpg(pid, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        pid = self.pid(name)
        if pid is not None:
            os.killpg(pid, signal.SIGCONT)

    def kill(self, name: str) -> bool:
        """``kill -9``: for crash tests."""
        return self.stop(name, timeout=5.0, sig=signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (not yet reaped) is dead for our purposes.
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return waited == 0


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
