"""Doorbell press → Home Assistant state, through the real add-on and the integration.

Starts the add-on (`python -m porchlight_edge`, demo camera) as a subprocess and Home
Assistant in-process (the pytest-homeassistant-custom-component test instance, with the
integration set up from custom_components/porchlight). A separate client presses the
doorbell through the add-on's API N times; for each press we time

  - ack: the `ring` command's result arriving at the presser (the add-on's round trip), and
  - ha:  the `event.*_doorbell` state written in Home Assistant (a state_changed listener),

both from just before the command is sent. Motion onset is the add-on's motion event `time`
(when the frames showed motion) to the `binary_sensor.*_motion` "on" state write.
Lost = presses whose ring never reached the entity; duplicated = rings that fired twice.

Usage: scripts/bench latency [--rings 500] [--motion-onsets 3]
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from pathlib import Path
import statistics
import sys
import tempfile
import time
from typing import TYPE_CHECKING
from unittest.mock import patch

import aiohttp
from aiohttp.resolver import ThreadedResolver

ROOT = Path(__file__).resolve().parents[1]
# The presser is the bare client library (pyporchlight, no Home Assistant imports); only
# the measured side, the integration, runs inside Home Assistant.
sys.path[:0] = [str(ROOT), str(ROOT / "addon"), str(ROOT / "custom_components" / "porchlight")]

from homeassistant import loader  # noqa: E402
from homeassistant.core import Event, HomeAssistant, callback  # noqa: E402

if TYPE_CHECKING:  # the same files, type-checked under their package path
    from custom_components.porchlight.pyporchlight.client import PorchlightClient
    from custom_components.porchlight.pyporchlight.protocol import EventMessage, EventType
else:
    from pyporchlight.client import PorchlightClient
    from pyporchlight.protocol import EventMessage, EventType
from pytest_homeassistant_custom_component.common import (  # noqa: E402
    async_test_home_assistant,
)

from tests.e2e.addon_process import AddonProcess  # noqa: E402
from tests.e2e.entries import entry_for, setup_entry, unload_entry  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

DOORBELL = "event.front_door_doorbell"
MOTION = "binary_sensor.front_door_motion"
OPTIONS = {
    "cameras": [
        {
            "name": "front_door",
            "title": "Front door",
            "source": "demo",
            "demo": {"width": 640, "height": 360, "loop_seconds": 8},
            "motion": {"off_seconds": 1.0},
        }
    ]
}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def measure(hass: HomeAssistant, addon: AddonProcess, rings: int, onsets: int) -> str:
    entry = entry_for(addon)
    await setup_entry(hass, entry)

    written: dict[int, list[float]] = {}  # seq of an API ring → times its state was written
    seen_states: set[str] = set()
    motion_events: list[float] = []  # add-on `time` of each motion onset event
    motion_on_writes: list[float] = []
    arrived: dict[int, asyncio.Future[None]] = {}

    @callback
    def state_changed(event: Event) -> None:
        now = time.perf_counter()
        new = event.data["new_state"]
        if new is None:
            return
        if event.data["entity_id"] == DOORBELL and new.attributes.get("source") == "api":
            if new.state in seen_states:  # back from unavailable: not a new ring
                return
            seen_states.add(new.state)
            seq = int(new.attributes["seq"])
            written.setdefault(seq, []).append(now)
            if (future := arrived.get(seq)) is not None and not future.done():
                future.set_result(None)
        elif event.data["entity_id"] == MOTION and new.state == "on":
            old = event.data["old_state"]
            if old is not None and old.state == "off":
                motion_on_writes.append(time.time())

    @callback
    def addon_event(event: EventMessage) -> None:
        if event["event"] == EventType.MOTION and event["data"].get("active") is True:
            motion_events.append(event["time"])

    hass.bus.async_listen("state_changed", state_changed)
    entry.runtime_data.async_add_event_listener("front_door", addon_event)

    acks: list[float] = []
    ha: list[float] = []
    sent: list[int] = []
    async with aiohttp.ClientSession() as session:
        presser = PorchlightClient(session, "127.0.0.1", addon.port, addon.token)
        await presser.connect()
        loop = asyncio.get_running_loop()
        for _ in range(rings):
            start = time.perf_counter()
            seq_future: asyncio.Future[None] = loop.create_future()
            seq = await presser.ring("front_door")
            acks.append((time.perf_counter() - start) * 1000)
            sent.append(seq)
            if seq in written:
                seq_future.set_result(None)
            arrived[seq] = seq_future
            try:
                async with asyncio.timeout(2):
                    await seq_future
            except TimeoutError:
                continue
            ha.append((written[seq][0] - start) * 1000)
        await presser.disconnect()

    # Motion: wait for a few onsets of the demo visitor (one per loop).
    deadline = time.monotonic() + 12 * max(onsets, 1)
    while len(motion_on_writes) < onsets and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # late duplicates would land now
    pairs = min(len(motion_events), len(motion_on_writes))
    onset_ms = [(motion_on_writes[i] - motion_events[i]) * 1000 for i in range(pairs)]

    counts = Counter({seq: len(times) for seq, times in written.items()})
    lost = sum(1 for seq in sent if seq not in written)
    duplicated = sum(count - 1 for count in counts.values() if count > 1)
    await unload_entry(hass, entry)

    rows: list[tuple[str, list[float]]] = [
        ("ring: add-on ack (round trip)", acks),
        ("ring: press -> HA event state", ha),
        ("motion onset -> HA binary_sensor on", onset_ms),
    ]
    print(f"{'measure':40} {'n':>5} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9}")
    for name, values in rows:
        print(
            f"{name:40} {len(values):5d} {percentile(values, 50):9.2f} "
            f"{percentile(values, 95):9.2f} {percentile(values, 99):9.2f}"
        )
    ratio = statistics.median(ha) / statistics.median(acks) if ha and acks else float("nan")
    print(f"HA state write vs add-on ack (median ratio): {ratio:.2f}x")
    print(f"rings sent {len(sent)}, delivered {len(written)}, lost {lost}, duplicated {duplicated}")
    return (
        f"RESULT ring_p50_ms={percentile(ha, 50):.2f} ring_p95_ms={percentile(ha, 95):.2f} "
        f"ring_p99_ms={percentile(ha, 99):.2f} motion_onset_ms_p50={percentile(onset_ms, 50):.1f} "
        f"lost={lost} duplicated={duplicated}"
    )


async def with_home_assistant(
    prefix: str, body: Callable[[HomeAssistant, AddonProcess], Awaitable[str]]
) -> str:
    """Run `body` with the add-on started (demo camera, OPTIONS) and a test instance of Home
    Assistant; both are stopped after. Returns what `body` returns (its RESULT line)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        addon = AddonProcess(Path(tmp) / "addon", OPTIONS)
        await asyncio.to_thread(addon.start)
        try:
            config_dir = Path(tmp) / "ha"
            config_dir.mkdir()
            # No zeroconf in a bare test instance: a plain resolver for HA's client session.
            resolver = ThreadedResolver()
            resolver.real_close = resolver.close  # type: ignore[attr-defined]
            with patch(
                "homeassistant.helpers.aiohttp_client._async_make_resolver",
                return_value=resolver,
            ):
                async with async_test_home_assistant(config_dir=str(config_dir)) as hass:
                    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)  # allow custom_components
                    result = await body(hass, addon)
                    await hass.async_stop(force=True)
        finally:
            await asyncio.to_thread(addon.stop)
    return result


async def main(args: argparse.Namespace) -> None:
    async def body(hass: HomeAssistant, addon: AddonProcess) -> str:
        return await measure(hass, addon, args.rings, args.motion_onsets)

    print(await with_home_assistant("porchlight-latency-", body))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rings", type=int, default=500)
    parser.add_argument("--motion-onsets", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
