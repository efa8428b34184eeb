"""Session fixtures: the real broker (Tansu), store (SecantusDB) and SMTP sink on free ports,
started with the same code as ``make run`` and stopped at the end. Unit tests use none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lapor_devstack.settings import StackSettings
from lapor_devstack.stack import Stack, infrastructure, services
from lapor_kit.settings import KitSettings
from tests.support import OIDC_USERS, fast_settings, free_stack_settings, oidc_provider_config


def _free_stack_settings(tmp_path_factory: pytest.TempPathFactory, name: str) -> StackSettings:
    settings: StackSettings = free_stack_settings(tmp_path_factory.mktemp(name))
    return settings


@pytest.fixture(scope="session")
def stack_settings(tmp_path_factory: pytest.TempPathFactory) -> StackSettings:
    """Broker, store and SMTP sink for the integration tier (in-process services)."""
    return _free_stack_settings(tmp_path_factory, "var-integration")


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A mock OpenID Connect provider (``oidc-provider-mock``) standing in for a province's
    own sign-on, with its users' claims; yields its port."""
    import json
    import sys

    from lapor_devstack.procs import Component, ProcessManager, free_port, http_ready

    port = free_port()
    users = [arg for u in OIDC_USERS for arg in ("--user-claims", json.dumps(u))]
    pm = ProcessManager(tmp_path_factory.mktemp("oidc"))
    comp = Component(
        "oidc",
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), *users],
        http_ready(f"http://127.0.0.1:{port}/.well-known/openid-configuration"),
    )
    pm.start(comp)
    try:
        pm.wait_ready(comp, 30)
        yield port
    finally:
        pm.stop("oidc")


@pytest.fixture(scope="session")
def e2e_settings(tmp_path_factory: pytest.TempPathFactory, oidc_provider: int) -> StackSettings:
    """A separate stack for the e2e tier, so that its service processes and the in-process
    services of the integration tier never share consumer groups. Its portal also signs in
    through the mock province sign-on."""
    settings: StackSettings = free_stack_settings(
        tmp_path_factory.mktemp("var-e2e"), oidc_providers=oidc_provider_config(oidc_provider)
    )
    return settings


@pytest.fixture(scope="session")
def infra(stack_settings: StackSettings) -> Iterator[Stack]:
    stack = Stack(stack_settings)
    try:
        stack.up(infrastructure(stack_settings), timeout=90)
        yield stack
    finally:
        stack.down()


@pytest.fixture(scope="session")
def running_stack(e2e_settings: StackSettings) -> Iterator[Stack]:
    """The whole stack as separate processes, started like ``make run`` does."""
    stack = Stack(e2e_settings)
    try:
        stack.up(infrastructure(e2e_settings), timeout=90)
        stack.up(services(e2e_settings), timeout=120)
        yield stack
    finally:
        stack.down()


@pytest.fixture
def kit_settings(infra: Stack, stack_settings: StackSettings) -> KitSettings:
    """Settings for an in-process service on the real broker and store, with databases of its
    own (so tests do not see each other's data)."""
    settings: KitSettings = fast_settings(KitSettings, stack_settings)
    return settings


@pytest.fixture(scope="session")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The provider stand-in (SMS/WhatsApp gateway, webhook receiver) as its own process."""
    import sys

    from lapor_devstack.procs import Component, ProcessManager, free_port, http_ready

    port = free_port()
    pm = ProcessManager(tmp_path_factory.mktemp("provider"))
    comp = Component(
        "provider",
        [sys.executable, "-m", "lapor_devstack.provider_stub", "--port", str(port)],
        http_ready(f"http://127.0.0.1:{port}/health"),
    )
    pm.start(comp)
    try:
        pm.wait_ready(comp, 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        pm.stop("provider")
