"""`scripts/develop` as a test fixture: the add-on's demo camera and a real Home Assistant
with Porchlight set up, in a config folder of the test's own on free loopback ports, so it
never touches a developer's config/ nor a parallel test run."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
import os
from pathlib import Path
import signal
import socket
import subprocess
import time
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[2]
READY_LINE: Final = "Ctrl-C stops both."
"""The last line of scripts/develop's banner, printed once the entry was added."""
LOADED_LINE: Final = "Porchlight entry loaded"
PORT_IN_USE: Final = ("is in use", "address already in use")
"""What scripts/develop (its own check) or Home Assistant (binding) says of a taken port."""
PORT_ATTEMPTS: Final = 3
USERNAME: Final = "dev"
PASSWORD: Final = "dev"


@dataclass(frozen=True, slots=True)
class DevelopStack:
    """A running `scripts/develop`: its URLs, tokens and log."""

    ha_url: str
    addon_url: str
    config_dir: Path
    log: Path

    @property
    def ha_token(self) -> str:
        """The long-lived access token of the dev user (for REST calls)."""
        return (self.config_dir / ".porchlight-dev-token").read_text().strip()

    @property
    def addon_token(self) -> str:
        """The add-on's access token."""
        return (self.config_dir / ".porchlight-addon-token").read_text().strip()

    def logs(self, lines: int = 60) -> str:
        """The last `lines` lines of scripts/develop's output and of Home Assistant's and
        the add-on's logs, for failure messages."""
        parts = []
        for path in (
            self.log,
            self.config_dir / "home-assistant.log",
            self.config_dir / "porchlight-addon.log",
        ):
            text = path.read_text(errors="replace") if path.exists() else "(missing)"
            parts.append(f"--- {path.name}:\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(parts)


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback TCP ports that were free a moment ago."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def _pids_using(folder: Path) -> list[int]:
    """Processes with `folder` or a path in it as an argument (this run's hass and add-on)."""
    inside = f"{folder}/".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                args = (proc / "cmdline").read_bytes().split(b"\0")
                if any(a == inside[:-1] or a.startswith(inside) for a in args):
                    pids.append(int(proc.name))
    return pids


@contextlib.contextmanager
def running_develop(config_dir: Path, timeout: float = 240.0) -> Iterator[DevelopStack]:
    """Run `scripts/develop` on `config_dir` (created) until it has set Porchlight up;
    stop it (SIGTERM: it stops Home Assistant, then the add-on) on exit.

    Free ports are picked afresh (up to `PORT_ATTEMPTS` times) when another process took
    one between the pick and the start. AssertionError, with the logs, when it exits or
    is not ready within `timeout` seconds.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, PORT_ATTEMPTS + 1):
        stack, proc = _start(config_dir)
        try:
            _wait_ready(stack, proc, timeout)
        except PortTaken:
            _stop(proc, config_dir)
            if attempt == PORT_ATTEMPTS:
                raise AssertionError(f"no free ports in {attempt} tries\n{stack.logs()}") from None
            continue
        except BaseException:
            _stop(proc, config_dir)
            raise
        try:
            yield stack
        finally:
            _stop(proc, config_dir)
        return


class PortTaken(Exception):
    """scripts/develop found a port it was given in use."""


def _start(config_dir: Path) -> tuple[DevelopStack, subprocess.Popen[bytes]]:
    ha_port, addon_port = free_ports(2)
    # The copied configuration names the HA URL: a retry on other ports writes it anew.
    (config_dir / "configuration.yaml").unlink(missing_ok=True)
    env = {
        **os.environ,
        "HA_PORT": str(ha_port),
        "ADDON_PORT": str(addon_port),
        "DEVELOP_CONFIG": str(config_dir),
    }
    log = config_dir.parent / f"{config_dir.name}-develop.log"
    stack = DevelopStack(
        f"http://127.0.0.1:{ha_port}", f"http://127.0.0.1:{addon_port}", config_dir, log
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(ROOT / "scripts" / "develop")],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C of the test run reaches it only through us
        )
    return stack, proc


def _wait_ready(stack: DevelopStack, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.1) + 1):
        output = stack.log.read_text(errors="replace")
        if READY_LINE in output:
            break
        if proc.poll() is not None:
            if any(line in output for line in PORT_IN_USE):
                raise PortTaken
            raise AssertionError(f"scripts/develop exited ({proc.returncode})\n{stack.logs()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"scripts/develop not ready in {timeout} s\n{stack.logs()}")
        time.sleep(0.1)
    if LOADED_LINE not in stack.log.read_text(errors="replace"):
        raise AssertionError(f"the Porchlight entry did not load\n{stack.logs()}")


def _stop(proc: subprocess.Popen[bytes], config_dir: Path) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    # Only if scripts/develop could not stop them: this run's own hass and add-on.
    for pid in _pids_using(config_dir):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
