"""Start the real add-on service (`python -m porchlight_edge`) on a loopback port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
import contextlib
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import subprocess
import sys
import time
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def front_door_demo(width: int, height: int, **camera: Any) -> dict[str, Any]:
    """Add-on options with one demo camera "front_door" (a 14 s loop of `width` x `height`
    pixels); `camera` adds or replaces keys of the camera."""
    demo = {"width": width, "height": height, "loop_seconds": 14}
    return {
        "cameras": [
            {"name": "front_door", "title": "Front door", "source": "demo", "demo": demo, **camera}
        ]
    }


@contextlib.contextmanager
def running_addon(data_dir: Path, options: dict[str, Any]) -> Iterator[AddonProcess]:
    """An AddonProcess started on `options` in `data_dir`, stopped on exit."""
    process = AddonProcess(data_dir, options)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@contextlib.asynccontextmanager
async def running_async(process: AddonProcess) -> AsyncIterator[AddonProcess]:
    """`process` started, and stopped on exit, each in a thread: both block for up to
    seconds, and the event loop must go on serving the test meanwhile."""
    await asyncio.to_thread(process.start)
    try:
        yield process
    finally:
        await asyncio.to_thread(process.stop)


def addon_argv(config: Path, data_dir: Path, *extra: str) -> list[str]:
    """The command line that runs the add-on (`python -m porchlight_edge`) with the options
    file `config` and the data folder `data_dir`; `extra` adds further arguments."""
    cmd = [sys.executable, "-m", "porchlight_edge", "--config", str(config)]
    return [*cmd, "--data-dir", str(data_dir), *extra]


@dataclass
class AddonProcess:
    """One add-on service in its own process, with its own data folder."""

    data_dir: Path
    options: dict[str, Any]
    token: str = "e2e-token-abcdefghijklmnop"
    port: int = 0
    instance_id: str = ""
    env: dict[str, str] = field(default_factory=dict)
    pythonpath: list[str] = field(default_factory=list)
    zeroconf: bool = False
    extra_args: list[str] = field(default_factory=list)
    ingress_port: int | None = None
    """The ingress port, when `extra_args` ask for one (`--ingress-port`)."""
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "options.json"
        config.write_text(json.dumps(self.options))
        ready = self.data_dir / "ready.json"
        ready.unlink(missing_ok=True)
        path = [*self.pythonpath, str(ROOT / "addon")]
        env = {**os.environ, **self.env, "PYTHONPATH": os.pathsep.join(path)}
        log = (self.data_dir / "addon.log").open("ab")
        self.proc = subprocess.Popen(
            addon_argv(
                config,
                self.data_dir,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--token",
                self.token,
                "--ready-file",
                str(ready),
                *([] if self.zeroconf else ["--no-zeroconf"]),
                *self.extra_args,
            ),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"add-on exited early:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"add-on did not start:\n{self.log_tail()}")
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        self.port, self.instance_id = info["port"], info["instance_id"]
        self.ingress_port = info.get("ingress_port")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def log_tail(self, lines: int = 40) -> str:
        path = self.data_dir / "addon.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )
