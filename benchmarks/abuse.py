"""Rings and health under abuse: the real add-on and Home Assistant, with an attacker.

Starts the add-on (`python -m porchlight_edge`, demo camera) as a subprocess and Home
Assistant in-process with the integration set up (as `scripts/bench latency` does). A
load generator in its own process then holds

  - 1000 unauthenticated idle TCP connections, from 127.0.0.2 (another host, as far as
    the add-on can tell); those the add-on closes are opened again once a second, the
    way slowloris-style tools keep up their count, and
  - 20 authenticated websocket clients that send 5000 `list_events` and never read a
    reply; each one the add-on drops reconnects a second later and starts again.

The generator runs at nice 10: on a real network the attacker is another machine, and
here it should not take the CPU from the programs under test. Side by side, without and
then with the load, we measure: a doorbell press through the
add-on's API to the `event.*_doorbell` state written in HA (p50/p99), `GET /healthz`
round trips from HA's address (p50/p99; a failed request counts as an error), and the
add-on's resident memory (VmRSS) growth over its level before the load.
Lost = presses whose ring never reached the entity; duplicated = rings that fired twice.

Usage: scripts/bench abuse [--rings 300] [--idle 1000] [--writers 20]
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
import contextlib
import json
import os
from pathlib import Path
import resource
import socket
import sys
import time
from typing import TYPE_CHECKING, Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "addon"), str(ROOT / "custom_components" / "porchlight")]

from homeassistant.core import Event, HomeAssistant, callback  # noqa: E402

from benchmarks.latency import DOORBELL, percentile, with_home_assistant  # noqa: E402
from tests.e2e.entries import entry_for, setup_entry, unload_entry  # noqa: E402
from tests.helpers.raw_websocket import RawWebsocket  # noqa: E402

if TYPE_CHECKING:  # the same file, type-checked under its package path
    from custom_components.porchlight.pyporchlight.client import PorchlightClient
    from tests.e2e.addon_process import AddonProcess
else:
    from pyporchlight.client import PorchlightClient

ATTACKER = "127.0.0.2"
"""The idle connections' source: any 127.x address is local, and not HA's 127.0.0.1."""
REOPEN_INTERVAL = 1.0
RING_INTERVAL = 0.05
HEALTH_INTERVAL = 0.05
COMMAND_INTERVAL = 0.001
COMMANDS = 5000
"""Commands one never-reading client sends per session (the report saw 3000-5000)."""


def raise_file_limit(needed: int) -> int:
    """Raise the soft RLIMIT_NOFILE toward `needed` (within the hard limit); the new soft."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return int(soft)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the load generator (its own process) ---------------------------------------------------


async def hold_idle(port: int, count: int, stats: Counter[str]) -> None:
    """Keep `count` idle connections open, reopening closed ones once a second."""
    loop = asyncio.get_running_loop()
    open_socks: set[socket.socket] = set()

    async def watch(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while await loop.sock_recv(sock, 4096):
                pass
        open_socks.discard(sock)
        sock.close()

    watchers: set[asyncio.Task[None]] = set()
    while True:
        for _ in range(count - len(open_socks)):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                sock.bind((ATTACKER, 0))
                await loop.sock_connect(sock, ("127.0.0.1", port))
            except OSError:
                sock.close()
                stats["connect_errors"] += 1
                continue
            stats["opened"] += 1
            open_socks.add(sock)
            task = asyncio.create_task(watch(sock))
            watchers.add(task)
            task.add_done_callback(watchers.discard)
        stats["held"] = len(open_socks)
        await asyncio.sleep(REOPEN_INTERVAL)


async def never_read(port: int, token: str, stats: Counter[str]) -> None:
    """An authenticated client that sends commands and never reads (a 4 KiB receive
    buffer, so nothing is taken off the add-on's hands); reconnects when dropped."""
    while True:
        try:
            client = await RawWebsocket.connect(port, token)
        except (OSError, AssertionError):
            stats["connect_errors"] += 1
            await asyncio.sleep(REOPEN_INTERVAL)
            continue
        stats["sessions"] += 1
        try:
            for number in range(1, COMMANDS + 1):
                command = {"message_id": number, "command": "list_events", "args": {"limit": 200}}
                await client.send(command)
                stats["commands"] += 1
                await asyncio.sleep(COMMAND_INTERVAL)
            # Then it holds on, still reading nothing; a ping a second notices the drop.
            for number in range(COMMANDS + 1, COMMANDS + 3600):
                await client.send({"message_id": number, "command": "ping"})
                await asyncio.sleep(REOPEN_INTERVAL)
        except OSError:
            stats["dropped"] += 1
        finally:
            client.sock.close()
        await asyncio.sleep(REOPEN_INTERVAL)


async def load(port: int, token: str, idle: int, writers: int) -> None:
    stats: Counter[str] = Counter()
    tasks = [asyncio.create_task(hold_idle(port, idle, stats))]
    tasks += [asyncio.create_task(never_read(port, token, stats)) for _ in range(writers)]
    while True:
        print(json.dumps(dict(stats)), flush=True)
        await asyncio.sleep(1.0)


# --- the measurement (HA in this process) ---------------------------------------------------


class Probe:
    """Rings pressed through the API, timed to the HA entity; /healthz timed alongside."""

    def __init__(self, hass: HomeAssistant, addon: AddonProcess) -> None:
        self.hass, self.addon = hass, addon
        self.written: dict[int, list[float]] = {}
        self.seen_states: set[str] = set()
        self.arrived: dict[int, asyncio.Future[None]] = {}
        hass.bus.async_listen("state_changed", self._state_changed)

    @callback
    def _state_changed(self, event: Event) -> None:
        now = time.perf_counter()
        new = event.data["new_state"]
        if event.data["entity_id"] != DOORBELL or new is None:
            return
        if new.attributes.get("source") != "api" or new.state in self.seen_states:
            return
        self.seen_states.add(new.state)
        seq = int(new.attributes["seq"])
        self.written.setdefault(seq, []).append(now)
        if (future := self.arrived.get(seq)) is not None and not future.done():
            future.set_result(None)

    async def rings(self, presser: PorchlightClient, count: int) -> tuple[list[float], list[int]]:
        loop = asyncio.get_running_loop()
        times: list[float] = []
        sent: list[int] = []
        for _ in range(count):
            start = time.perf_counter()
            seq = await presser.ring("front_door")
            sent.append(seq)
            future = self.arrived.setdefault(seq, loop.create_future())
            if seq in self.written and not future.done():
                future.set_result(None)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await future
                times.append((self.written[seq][0] - start) * 1000)
            await asyncio.sleep(RING_INTERVAL)
        return times, sent

    async def health(self, stop: asyncio.Event) -> tuple[list[float], int]:
        times: list[float] = []
        errors = 0
        url = f"http://127.0.0.1:{self.addon.port}/healthz"
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not stop.is_set():
                start = time.perf_counter()
                try:
                    async with session.get(url) as resp:
                        await resp.read()
                        ok = resp.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                if ok:
                    times.append((time.perf_counter() - start) * 1000)
                else:
                    errors += 1
                await asyncio.sleep(HEALTH_INTERVAL)
        return times, errors


async def phase(probe: Probe, presser: PorchlightClient, rings: int, pid: int) -> dict[str, Any]:
    stop = asyncio.Event()
    health = asyncio.create_task(probe.health(stop))
    rss: list[float] = []

    async def sample() -> None:
        while not stop.is_set():
            rss.append(rss_mb(pid))
            await asyncio.sleep(0.25)

    sampler = asyncio.create_task(sample())
    cpu, wall = cpu_seconds(pid), time.monotonic()
    ring_ms, sent = await probe.rings(presser, rings)
    cpu_pct = 100 * (cpu_seconds(pid) - cpu) / (time.monotonic() - wall)
    stop.set()
    health_ms, health_errors = await health
    await sampler
    return {
        "cpu_pct": cpu_pct,
        "ring_ms": ring_ms,
        "sent": sent,
        "health_ms": health_ms,
        "health_errors": health_errors,
        "rss": rss,
    }


async def measure(hass: HomeAssistant, addon: AddonProcess, args: argparse.Namespace) -> str:
    entry = entry_for(addon)
    await setup_entry(hass, entry)
    probe = Probe(hass, addon)
    assert addon.proc is not None
    pid = addon.proc.pid
    async with aiohttp.ClientSession() as session:
        presser = PorchlightClient(session, "127.0.0.1", addon.port, addon.token)
        await presser.connect()
        await probe.rings(presser, 20)  # warm up
        quiet = await phase(probe, presser, args.rings // 3, pid)
        baseline_rss = max(quiet["rss"])

        generator = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--load",
            str(addon.port),
            addon.token,
            "--idle",
            str(args.idle),
            "--writers",
            str(args.writers),
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "addon")])},
        )
        try:
            await ramp_up(generator, args)
            attacker_cpu, wall = cpu_seconds(generator.pid), time.monotonic()
            loaded = await phase(probe, presser, args.rings, pid)
            attacker_pct = (
                100 * (cpu_seconds(generator.pid) - attacker_cpu) / (time.monotonic() - wall)
            )
            stats = await latest_stats(generator)
        finally:
            generator.terminate()
            await generator.wait()
        await presser.disconnect()
    await asyncio.sleep(0.5)  # late duplicates would land now
    await unload_entry(hass, entry)

    sent = quiet["sent"] + loaded["sent"]
    counts = Counter({seq: len(times) for seq, times in probe.written.items()})
    lost = sum(1 for seq in sent if seq not in probe.written)
    duplicated = sum(count - 1 for count in counts.values() if count > 1)
    growth = max(loaded["rss"]) - baseline_rss

    print(f"{'measure':34} {'quiet p50':>10} {'p99':>8} {'loaded p50':>11} {'p99':>8} {'ratio':>6}")
    for name, key in (
        ("ring: press -> HA event state ms", "ring_ms"),
        ("GET /healthz ms", "health_ms"),
    ):
        q50, q99 = percentile(quiet[key], 50), percentile(quiet[key], 99)
        l50, l99 = percentile(loaded[key], 50), percentile(loaded[key], 99)
        print(f"{name:34} {q50:10.2f} {q99:8.2f} {l50:11.2f} {l99:8.2f} {l99 / q99:6.2f}")
    print(f"healthz errors: quiet {quiet['health_errors']}, loaded {loaded['health_errors']}")
    print(f"add-on CPU: quiet {quiet['cpu_pct']:.0f} %, loaded {loaded['cpu_pct']:.0f} % of a core")
    print(f"load generator CPU: {attacker_pct:.0f} % of a core")
    peak = max(loaded["rss"])
    print(f"add-on RSS: {baseline_rss:.1f} MB before the load, at most {peak:.1f} MB under it")
    fifths = [loaded["rss"][len(loaded["rss"]) * i // 5] for i in range(5)] + [loaded["rss"][-1]]
    print("add-on RSS over the loaded phase (MB):", " ".join(f"{v:.0f}" for v in fifths))
    print(f"load generator: {json.dumps(stats)}")
    delivered = sum(1 for seq in sent if seq in probe.written)
    print(f"rings sent {len(sent)}, delivered {delivered}, lost {lost}, duplicated {duplicated}")
    return (
        f"RESULT ring_p99_ms={percentile(loaded['ring_ms'], 99):.2f} "
        f"healthz_p99_ms={percentile(loaded['health_ms'], 99):.2f} "
        f"rss_growth_mb={growth:.1f} lost={lost} duplicated={duplicated}"
    )


async def generator_stats(generator: asyncio.subprocess.Process) -> dict[str, Any]:
    """The load generator's next once-a-second report."""
    assert generator.stdout is not None
    async with asyncio.timeout(10):
        line = await generator.stdout.readline()
    if not line:
        raise RuntimeError("the load generator exited")
    stats: dict[str, Any] = json.loads(line)
    return stats


async def latest_stats(generator: asyncio.subprocess.Process) -> dict[str, Any]:
    """The newest report: skip those that queued up while we were measuring."""
    stats = await generator_stats(generator)
    assert generator.stdout is not None
    for _ in range(10_000):
        try:
            async with asyncio.timeout(0.2):
                line = await generator.stdout.readline()
        except TimeoutError:
            break
        stats = json.loads(line)
    return stats


async def ramp_up(generator: asyncio.subprocess.Process, args: argparse.Namespace) -> None:
    """Wait until the generator opened its idle connections and every writer got in."""
    for _ in range(60):
        stats = await generator_stats(generator)
        if stats.get("opened", 0) >= args.idle and stats.get("sessions", 0) >= args.writers:
            return
    raise TimeoutError("the load did not ramp up in 60 reports")


async def main(args: argparse.Namespace) -> None:
    raise_file_limit(4096)

    async def body(hass: HomeAssistant, addon: AddonProcess) -> str:
        return await measure(hass, addon, args)

    print(await with_home_assistant("porchlight-abuse-", body))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rings", type=int, default=300)
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--load", nargs=2, metavar=("PORT", "TOKEN"), help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.load:
        # The attacker would be another machine: on this one it yields the CPU to the
        # add-on and HA under test (its traffic is the same).
        os.nice(10)
        raise_file_limit(parsed.idle + parsed.writers + 256)
        asyncio.run(load(int(parsed.load[0]), parsed.load[1], parsed.idle, parsed.writers))
    else:
        asyncio.run(main(parsed))
