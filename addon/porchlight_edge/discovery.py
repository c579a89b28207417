"""Tell Home Assistant where the add-on is: Supervisor discovery or zeroconf.

Under the Supervisor the add-on posts its host, port and token to the
Supervisor's discovery API, so the integration offers itself with one click.
Standalone, it advertises `_porchlight._tcp.local.` on the local network
(link-local multicast only; it carries no token), with the addresses the service really
listens on: a service bound to loopback only is not advertised at all.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from collections.abc import Iterable

    from zeroconf.asyncio import AsyncZeroconf

_LOGGER = logging.getLogger(__name__)

SERVICE = "porchlight"
ZEROCONF_TYPE = "_porchlight._tcp.local."


class Discovery:
    """Publishes the add-on at start and withdraws it at stop."""

    def __init__(
        self,
        *,
        port: int,
        token: str,
        instance_id: str,
        name: str,
        version: str,
        protocol_version: int,
        zeroconf: bool = True,
        zeroconf_interfaces: list[str] | None = None,
        listen_addresses: Iterable[str] = ("0.0.0.0",),
        addresses: list[str] | None = None,
    ) -> None:
        self.port = port
        self.token = token
        self.instance_id = instance_id
        self.name = name
        self.version = version
        self.protocol_version = protocol_version
        self.use_zeroconf = zeroconf
        self.zeroconf_interfaces = zeroconf_interfaces
        """None: the advertised addresses' interfaces; a list restricts mDNS to those."""
        self.listen_addresses = tuple(listen_addresses)
        """The addresses the API's sockets are bound to (getsockname()[0] of each)."""
        self.addresses = addresses
        """Addresses to advertise; None: those of `listen_addresses` (advertised_addresses)."""
        self.supervisor_token = os.environ.get("SUPERVISOR_TOKEN")
        self.supervisor_url = os.environ.get("SUPERVISOR_URL", "http://supervisor")
        self.discovery_uuid: str | None = None
        self.advertised_name: str | None = None
        """The zeroconf service name in use; mDNS may have renamed it to stay unique."""
        self._zeroconf: AsyncZeroconf | None = None

    async def start(self) -> None:
        """Announce the add-on: to the Supervisor when it runs as an add-on, else by zeroconf."""
        if self.supervisor_token:
            await self._supervisor_publish()
        elif self.use_zeroconf:
            await self._zeroconf_register()

    async def stop(self) -> None:
        """Withdraw the announcement (Supervisor discovery or zeroconf)."""
        if self.discovery_uuid is not None:
            await self._supervisor_call("DELETE", f"/discovery/{self.discovery_uuid}")
            self.discovery_uuid = None
        if self._zeroconf is not None:
            await self._zeroconf.async_unregister_all_services()  # sends the goodbye
            await self._zeroconf.async_close()
            self._zeroconf = None
            self.advertised_name = None

    # --- Supervisor ---------------------------------------------------------------------
    async def _supervisor_publish(self) -> None:
        config = {"host": socket.gethostname(), "port": self.port, "token": self.token}
        reply = await self._supervisor_call(
            "POST", "/discovery", {"service": SERVICE, "config": config}
        )
        if reply is not None:
            self.discovery_uuid = reply.get("data", {}).get("uuid")
            _LOGGER.info("Published Supervisor discovery for Home Assistant")

    async def _supervisor_call(
        self, method: str, path: str, payload: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        headers = {"Authorization": f"Bearer {self.supervisor_token}"}
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
                session.request(
                    method, self.supervisor_url + path, json=payload, headers=headers
                ) as resp,
            ):
                if resp.status >= 400:
                    _LOGGER.warning("Supervisor %s %s answered %s", method, path, resp.status)
                    return None
                data: dict[str, Any] = await resp.json()
                return data
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            _LOGGER.warning("Supervisor discovery failed: %s", err)
            return None

    # --- zeroconf -----------------------------------------------------------------------
    async def _zeroconf_register(self) -> None:
        from zeroconf import Error as ZeroconfError, ServiceInfo
        from zeroconf.asyncio import AsyncZeroconf

        addresses = self.addresses
        if addresses is None:
            addresses = advertised_addresses(self.listen_addresses, _local_addresses())
        if not addresses:
            _LOGGER.info(
                "Not advertising over zeroconf: listening on %s, which no other machine can "
                "reach (start with --host 0.0.0.0 or a LAN address to be discovered)",
                ", ".join(self.listen_addresses) or "nothing",
            )
            return
        host = socket.gethostname()
        info = ServiceInfo(
            ZEROCONF_TYPE,
            f"{_dns_label(self.name, self.instance_id[:6])}.{ZEROCONF_TYPE}",
            port=self.port,
            properties={
                "instance_id": self.instance_id,
                "version": self.version,
                "protocol": str(self.protocol_version),
            },
            server=f"{host}.local.",
            parsed_addresses=addresses,
        )
        try:
            # mDNS only on the interfaces whose addresses are advertised.
            self._zeroconf = AsyncZeroconf(interfaces=self.zeroconf_interfaces or addresses)
            # The returned task is the announcement broadcast; finish it before going on.
            # HA keys the entry on the instance_id property, so a renamed service (another
            # device already answers to this name) is still the same Porchlight.
            await (await self._zeroconf.async_register_service(info, allow_name_change=True))
        except (OSError, ZeroconfError) as err:
            _LOGGER.warning("Zeroconf advertisement unavailable: %s", err)
            if self._zeroconf is not None:
                await self._zeroconf.async_close()
            self._zeroconf = None
        else:
            self.advertised_name = info.name
            _LOGGER.info(
                "Advertising %s as %r at %s port %d",
                ZEROCONF_TYPE,
                info.name,
                ", ".join(addresses),
                self.port,
            )


def _dns_label(name: str, suffix: str) -> str:
    """`name suffix`, the name cut on a character boundary to DNS's 63-byte label limit."""
    room = 63 - len(suffix.encode()) - 1
    cut = name.encode()[:room].decode(errors="ignore").rstrip()
    return f"{cut} {suffix}"


def advertised_addresses(listen: Iterable[str], interfaces: Iterable[str]) -> list[str]:
    """The IPv4 addresses to advertise for a server whose sockets are bound to `listen`.

    `interfaces` are this machine's interface addresses. A wildcard bind (0.0.0.0) listens on
    all of them; a bind to one address listens there only, if it is this machine's. Loopback
    is never advertised, so a loopback-only server gets [] (nothing to advertise). IPv6
    binds are not advertised (the advertisement is IPv4). Sorted, without duplicates.
    """
    own = {a for a in interfaces if _is_ipv4(a) and not ipaddress.ip_address(a).is_loopback}
    found: set[str] = set()
    for address in listen:
        if address == "0.0.0.0":
            found |= own
        elif address in own:
            found.add(address)
    return sorted(found, key=ipaddress.ip_address)


def _is_ipv4(address: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(address), ipaddress.IPv4Address)
    except ValueError:
        return False


def _local_addresses() -> list[str]:
    """IPv4 addresses of this machine's interfaces, read locally (no DNS query)."""
    import ifaddr  # ships with zeroconf

    return sorted(
        {str(ip.ip) for adapter in ifaddr.get_adapters() for ip in adapter.ips if ip.is_IPv4}
    )
