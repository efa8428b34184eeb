"""Where an agency's webhook may point (pure, with the resolver passed in).

A webhook is a URL that staff type in and that notify then calls from inside the cluster,
and reports the outcome of: without a check it is a port scanner into the cluster (it
reached the database port). A target must be ``https`` in production and resolve only to
public addresses — loopback, private, link-local (cloud metadata), carrier-grade NAT,
multicast and reserved ranges are refused — at registration and again before every send,
after DNS resolution (a name may be re-pointed after it was registered). ``allowed`` names
``host:port`` pairs exempt from the address rule (the local stack's provider stand-in).
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable, Collection, Iterable
from urllib.parse import urlsplit

Resolver = Callable[[str, int], Awaitable[Iterable[str]]]


class TargetRefusedError(ValueError):
    def __init__(self, reason: str, reason_id: str) -> None:
        super().__init__(reason)
        self.reason_id = reason_id


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


async def check_target(
    url: str,
    *,
    production: bool,
    resolve: Resolver,
    allowed: Collection[str] = (),
    resolve_timeout: float = 2.0,
) -> None:
    """Raise :class:`TargetRefusedError` unless ``url`` is a webhook target notify may call."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TargetRefusedError("not an http(s) URL", "bukan URL http(s)")
    if production and parts.scheme != "https":
        raise TargetRefusedError("production webhooks must use https", "webhook wajib https")
    if parts.username or parts.password:
        raise TargetRefusedError("credentials in the URL", "URL tidak boleh memuat kredensial")
    host = parts.hostname.lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if f"{host}:{port}" in allowed:
        return
    try:
        async with asyncio.timeout(resolve_timeout):
            addresses = list(await resolve(host, port))
    except (OSError, TimeoutError) as exc:
        raise TargetRefusedError(
            f"host {host} does not resolve", f"host {host} tidak dapat di-resolve"
        ) from exc
    if not addresses:
        raise TargetRefusedError(f"host {host} does not resolve", f"host {host} tidak ditemukan")
    for address in addresses:
        if not is_public(address):
            raise TargetRefusedError(
                f"host {host} resolves to a non-public address ({address})",
                f"host {host} mengarah ke alamat non-publik ({address})",
            )


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the HTTP client would connect to (both families)."""
    import socket

    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return sorted({str(info[4][0]) for info in infos})
