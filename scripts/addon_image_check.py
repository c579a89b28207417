"""scripts/addon-image's checks: start the built add-on image and look at it as the Supervisor does.

Runs inside the network namespace scripts/addon-image made (only `lo`), as root. It serves a
stand-in Supervisor on 127.0.0.1:80 (the container's hosts file names it `supervisor`), starts
the container command given after `--`, and checks:

- nonroot: the service process runs as the image's `porchlight` user, and so owns its files;
- healthz: GET /healthz answers "ok" (no token);
- snapshot: a snapshot fetched with the token decodes as an image (and is refused without it);
- discovery: the POST /discovery carried the Supervisor token, host, port 8765 and the token;
- panel_served: the panel page (with its self-only CSP) and every file of panel/static;
- token file 0600, the full token nowhere in the log, every data and media file private;
- stop: SIGTERM (what Docker's init passes on) during a recording stops the service within
  10 s, leaving a clean index: integrity ok, no clip left "recording", no WAL, no .part files.

Prints one CHECKS line, then `RESULT image_built=1 nonroot=1 healthz=1 snapshot=1 discovery=1
stop_s=<seconds>`; exits 1 when any check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from pathlib import Path
import secrets
import select
import signal
import sqlite3
import subprocess
import sys
import time
from typing import Any

import aiohttp
from aiohttp import web
import cv2
import numpy as np

API = "http://127.0.0.1:8765"
SERVICE_USER = "porchlight"
START_TIMEOUT = 180.0
STOP_LIMIT = 10.0
"""The Supervisor's default stop timeout: after it, Docker kills the add-on."""


class StandInSupervisor:
    """The Supervisor's discovery API, recording what the add-on sends."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.posts: list[tuple[str | None, Any]] = []
        self.deletes: list[str] = []
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/discovery", self._post)
        app.router.add_delete("/discovery/{uuid}", self._delete)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 80).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _post(self, request: web.Request) -> web.Response:
        self.posts.append((request.headers.get("Authorization"), await request.json()))
        return web.json_response({"result": "ok", "data": {"uuid": secrets.token_hex(16)}})

    async def _delete(self, request: web.Request) -> web.Response:
        self.deletes.append(request.match_info["uuid"])
        return web.json_response({"result": "ok", "data": {}})


def service_pid() -> int | None:
    """The add-on's Python process: runs porchlight_edge in this network namespace."""
    own_net = os.readlink("/proc/self/ns/net")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            if b"porchlight_edge" in cmdline and os.readlink(entry / "ns/net") == own_net:
                return int(entry.name)
    return None


def uids(pid: int) -> list[int]:
    """Real, effective, saved and filesystem uid of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return [int(v) for v in line.split()[1:]]
    return []


def passwd_uid(rootfs: Path, user: str) -> int | None:
    for line in (rootfs / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2])
    return None


async def wait_for(what: str, probe: Any, within: float, proc: asyncio.subprocess.Process) -> Any:
    """Poll `probe()` until it returns something truthy; fail if the container exits first."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"the container exited ({proc.returncode}) while waiting for {what}")
        with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
            found = await probe()
            if found:
                return found
        await asyncio.sleep(0.2)
    raise TimeoutError(f"no {what} within {within:.0f} s")


async def ring_and_wait_for_clip(session: aiohttp.ClientSession, token: str) -> None:
    """Ring the demo camera over the websocket API and wait until its clip is being written."""
    async with session.ws_connect(f"{API}/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "token": token})
        reply = await ws.receive_json()
        if reply.get("type") != "auth_ok":
            raise RuntimeError(f"websocket auth failed: {reply}")
        await ws.send_json({"message_id": 1, "command": "subscribe", "args": {}})
        await ws.send_json({"message_id": 2, "command": "ring", "args": {"camera": "front_door"}})
        async with asyncio.timeout(60):
            while True:
                message = await ws.receive_json()
                if message.get("event") == "clip_started":
                    return


PANEL_FILES = Path(__file__).resolve().parents[1] / "addon/porchlight_edge/panel/static"


async def panel_served(session: aiohttp.ClientSession) -> bool:
    """The standalone panel: its page with the self-only CSP, and every file of the source's
    `panel/static` served from the image."""
    async with session.get(f"{API}/panel/") as resp:
        csp = resp.headers.get("Content-Security-Policy", "")
        if resp.status != 200 or "default-src 'self'" not in csp:
            return False
    for path in sorted(PANEL_FILES.iterdir()):
        async with session.get(f"{API}/panel/{path.name}") as resp:
            if resp.status != 200 or await resp.read() != path.read_bytes():
                return False
    return True


def wait_exit(pid: int, timeout: float) -> float | None:
    """Seconds until `pid` exited (pidfd: no polling), or None if it still runs after `timeout`."""
    start = time.monotonic()
    fd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
    return time.monotonic() - start if ready else None


def index_clean(media: Path) -> list[str]:
    """What is wrong with the clip index and folder after a stop (empty: clean)."""
    problems = []
    db = media / "index.db"
    if not db.exists():
        return ["no index.db"]
    wal = media / "index.db-wal"
    if wal.exists() and wal.stat().st_size:
        problems.append("index.db-wal left behind")
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            problems.append("integrity_check failed")
        left = conn.execute("SELECT count(*) FROM clips WHERE state = 'recording'").fetchone()[0]
        if left:
            problems.append(f"{left} clip(s) still 'recording'")
        if not conn.execute("SELECT count(*) FROM clips").fetchone()[0]:
            problems.append("the ring's clip is not in the index")
    problems += [f"{p.name} left behind" for p in media.rglob("*.part")]
    return problems


def loose_modes(*roots: Path) -> list[str]:
    """Files readable, or folders enterable, by anyone but the owner."""
    loose = []
    for root in roots:
        for path in [root, *root.rglob("*")]:
            if path.is_symlink():
                continue
            mode = path.stat().st_mode & 0o777
            if mode & 0o077:
                loose.append(f"{path.relative_to(root.parent)} {mode:o}")
    return loose


async def run_checks(args: argparse.Namespace, command: list[str]) -> dict[str, Any]:
    work = Path(args.work)
    data, media = work / "data", work / "media" / "porchlight"
    log_path = work / "addon.log"
    result: dict[str, Any] = dict.fromkeys(("nonroot", "healthz", "snapshot", "discovery"), 0)
    result["stop_s"] = "nan"
    checks: dict[str, int] = {
        "clean_image": int(args.clean_image),
        "cmd_is_run_sh": int(args.image_cmd == "[/run.sh]"),
        "stopped_in_time": 0,
        "withdrew_discovery": 0,
    }
    result["checks"] = checks
    sup_token = secrets.token_urlsafe(24)
    command = [part.replace("@SUPERVISOR_TOKEN@", sup_token) for part in command]
    supervisor = StandInSupervisor(sup_token)
    await supervisor.start()
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(*command, stdout=log, stderr=subprocess.STDOUT)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:

            async def health() -> bool:
                async with session.get(f"{API}/healthz") as resp:
                    return resp.status == 200 and await resp.text() == "ok"

            result["healthz"] = int(await wait_for("/healthz", health, START_TIMEOUT, proc))
            pid = service_pid()
            # The container's own root, as the process sees it.
            user = passwd_uid(Path(f"/proc/{pid}/root"), SERVICE_USER) if pid else None
            token_file = data / "token"
            token = token_file.read_text().strip()
            ids = uids(pid) if pid else []
            result["nonroot"] = int(
                bool(ids)
                and user not in (None, 0)
                and set(ids) == {user}
                and token_file.stat().st_uid == user
            )
            checks["token_0600"] = int(token_file.stat().st_mode & 0o777 == 0o600)
            headers = {"Authorization": f"Bearer {token}"}
            snapshot_url = f"{API}/api/cameras/front_door/snapshot.jpg"

            async def snapshot() -> bytes | None:
                async with session.get(snapshot_url, headers=headers) as resp:
                    return await resp.read() if resp.status == 200 else None

            body = await wait_for("snapshot", snapshot, 60, proc)
            picture = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
            async with session.get(snapshot_url) as resp:
                refused = resp.status == 401
            result["snapshot"] = int(picture is not None and picture.size > 0 and refused)
            # The panel's page and its modules are in the image (package data, nothing built).
            checks["panel_served"] = int(await panel_served(session))
            # The service posts after it listens: /healthz may answer before the call is in.

            async def posted() -> bool:
                return bool(supervisor.posts)

            with contextlib.suppress(TimeoutError):
                await wait_for("discovery call", posted, 30, proc)
            posts = supervisor.posts
            config = posts[0][1].get("config", {}) if posts else {}
            result["discovery"] = int(
                len(posts) == 1
                and posts[0][0] == f"Bearer {sup_token}"
                and posts[0][1].get("service") == "porchlight"
                and isinstance(config.get("host"), str)
                and bool(config["host"])
                and config.get("port") == 8765
                and config.get("token") == token
            )
            # Stop while a clip is being written: the hardest moment for the index.
            await ring_and_wait_for_clip(session, token)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            took = await asyncio.to_thread(wait_exit, pid, STOP_LIMIT + 5)
            if took is not None:
                result["stop_s"] = f"{took:.2f}"
            checks["stopped_in_time"] = int(took is not None and took <= STOP_LIMIT)
            checks["withdrew_discovery"] = int(len(supervisor.deletes) == 1)
        async with asyncio.timeout(30):
            checks["exit_0"] = int(await proc.wait() == 0)
        problems = index_clean(media)
        checks["index_clean"] = int(not problems)
        loose = loose_modes(data, media)
        checks["files_private"] = int(not loose)
        logged = log_path.read_text(errors="replace")
        checks["token_unlogged"] = int(token not in logged and sup_token not in logged)
        for problem in problems + loose:
            print(f"addon-image: {problem}", file=sys.stderr)
    finally:
        if proc.returncode is None:
            proc.terminate()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(15):
                    await proc.wait()
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await supervisor.stop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", required=True)
    parser.add_argument("--image-cmd", required=True, help="the image's CMD as buildah prints it")
    parser.add_argument("--clean-image", type=int, default=0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    try:
        result = asyncio.run(run_checks(args, command))
    except (
        RuntimeError,
        TimeoutError,
        OSError,
        aiohttp.ClientError,
        subprocess.SubprocessError,
    ) as err:
        print(f"addon-image: {err}", file=sys.stderr)
        result = {"checks": {"ran": 0}}
    log = Path(args.work) / "addon.log"
    checks = result.pop("checks")
    keys = ("nonroot", "healthz", "snapshot", "discovery")
    failed = [k for k in keys if not result.get(k)] + [k for k, v in checks.items() if not v]
    if failed and log.exists():
        print("--- add-on log (last 40 lines):", file=sys.stderr)
        print("\n".join(log.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)
    print("CHECKS " + " ".join(f"{k}={v}" for k, v in checks.items()))
    values = " ".join(f"{k}={result.get(k, 0)}" for k in keys)
    print(f"RESULT image_built=1 {values} stop_s={result.get('stop_s', 'nan')}")
    return 1 if failed or result.get("stop_s", "nan") == "nan" else 0


if __name__ == "__main__":
    sys.exit(main())
