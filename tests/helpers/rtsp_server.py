"""A real RTSP server for tests: serves an MP4 (H.264) file with GStreamer's RTSP server.

Run by Debian's system python3 (PyGObject + GstRtspServer come from Debian packages,
see scripts/install-test-deps), not by the project's venv:

    /usr/bin/python3 tests/helpers/rtsp_server.py --port 8554 --file clip.mp4 [--path /cam]

Binds 127.0.0.1 only, prints `READY <port>` once listening, exits on SIGTERM/SIGINT.
The media is shared by all clients and played in real time from the file's start.

Imported by the tests (any Python), it provides `RtspServerProcess` to start, kill
and restart that server on a fixed port. Standard library only at module level.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
import signal
import socket
import subprocess
import sys
import time

SYSTEM_PYTHON = "/usr/bin/python3"
_CHECK = (
    "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0');"
    "from gi.repository import Gst, GstRtspServer; Gst.init(None);"
    "assert all(Gst.ElementFactory.find(e) for e in ('qtdemux', 'h264parse', 'rtph264pay'))"
)


def unavailable_reason() -> str | None:
    """Why the server cannot run here (None when it can)."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found"
    proc = subprocess.run(
        [SYSTEM_PYTHON, "-c", _CHECK], capture_output=True, text=True, timeout=30, check=False
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"{SYSTEM_PYTHON} cannot load GstRtspServer ({last}); run scripts/install-test-deps"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RtspServerProcess:
    """The server as a subprocess on a fixed 127.0.0.1 port; `stop()` kills it, `start()`
    brings it back on the same port (the tests' producer outage)."""

    def __init__(
        self, clip: Path, port: int, path: str = "/cam", user: str | None = None,
        password: str | None = None,
    ) -> None:  # fmt: skip
        self.clip, self.port, self.path = clip, port, path
        self.user, self.password = user, password
        self.proc: subprocess.Popen[str] | None = None

    def url(self, credentials: bool = True) -> str:
        auth = f"{self.user}:{self.password}@" if self.user and credentials else ""
        return f"rtsp://{auth}127.0.0.1:{self.port}{self.path}"

    def start(self, timeout: float = 15.0) -> None:
        cmd = [SYSTEM_PYTHON, __file__, "--port", str(self.port), "--file", str(self.clip),
               "--path", self.path]  # fmt: skip
        if self.user:
            cmd += ["--user", self.user, "--password", self.password or ""]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # "READY <port>" once bound, or an error
        if not line.startswith("READY"):
            rest = line + (self.proc.stdout.read() if self.proc.poll() is not None else "")
            self.stop()
            raise RuntimeError(f"RTSP server did not start: {rest.strip()}")
        while time.monotonic() < deadline:  # and the port really accepts
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"RTSP server not accepting on 127.0.0.1:{self.port}")

    def pause(self) -> None:
        """Freeze the producer (SIGSTOP): connections stay open but no data flows."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Kill the producer abruptly (SIGKILL), as a crashing camera would vanish."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a paused process must still die
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--path", default="/cam")
    parser.add_argument("--user", default=None, help="require this user (with --password)")
    parser.add_argument("--password", default=None)
    args = parser.parse_args()

    import gi  # type: ignore[import-not-found, unused-ignore]

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import (  # type: ignore[import-not-found, unused-ignore]
        GLib,
        Gst,
        GstRtspServer,
    )

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    # Quote the location for gst-launch syntax; the tests pass plain temp paths.
    location = args.file.replace("\\", "\\\\").replace('"', '\\"')
    factory.set_launch(
        f'( filesrc location="{location}" ! qtdemux ! h264parse config-interval=-1 '
        "! rtph264pay name=pay0 pt=96 )"
    )
    factory.set_shared(True)
    if args.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, args.user)
        basic = GstRtspServer.RTSPAuth.make_basic(args.user, args.password or "")
        auth.add_basic(basic, token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role(args.user, "media.factory.access", True)
        permissions.add_permission_for_role(args.user, "media.factory.construct", True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"FAILED to bind 127.0.0.1:{args.port}", flush=True)
        return 1

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"READY {args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
