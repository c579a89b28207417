"""Command line: `python -m porchlight_edge` or the `porchlight-edge` script.

Under the Home Assistant Supervisor it reads `/data/options.json`; standalone it
takes `--config options.json` or flags (`--demo` runs the built-in demo camera).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
from pathlib import Path
import signal
import sys

import cv2

from porchlight_edge.config import (
    ADDON_MEDIA_DIR,
    ADDON_OPTIONS,
    ConfigError,
    ServiceOptions,
    load_options_file,
    parse_options,
)
from porchlight_edge.panel.ingress import INGRESS_PORT
from porchlight_edge.protocol import redact_secrets
from porchlight_edge.redaction import RedactSecrets, install
from porchlight_edge.service import Service

_LOGGER = logging.getLogger("porchlight_edge")


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (`--config`, `--data-dir`, `--demo`, ...)."""
    parser = argparse.ArgumentParser(prog="porchlight-edge", description=__doc__)
    parser.add_argument("--config", type=Path, help="options file (JSON, add-on options format)")
    parser.add_argument("--data-dir", type=Path, help="where the token, index and clips live")
    parser.add_argument("--demo", action="store_true", help="one built-in demo camera")
    parser.add_argument("--host", help="listen address (default 0.0.0.0)")
    parser.add_argument("--port", type=int, help="listen port (default 8765; 0 = any free port)")
    parser.add_argument("--token", help="use this access token instead of the generated one")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--no-zeroconf", action="store_true", help="do not advertise on the local network"
    )
    parser.add_argument(
        "--ready-file", type=Path, help="write {port, instance_id} as JSON here once listening"
    )
    # Test hooks, not for users: the ingress port and its one trusted peer outside a
    # Supervisor (tests run the real process on loopback).
    parser.add_argument("--ingress-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ingress-peer", action="append", help=argparse.SUPPRESS)
    return parser


def load(args: argparse.Namespace) -> ServiceOptions:
    """The service options from `--config`, the add-on's options or `--demo` (ValueError)."""
    config = args.config
    if config is None and not args.demo and ADDON_OPTIONS.exists():
        config = ADDON_OPTIONS  # running as a Home Assistant add-on
    default_dir = Path("/data") if config == ADDON_OPTIONS else Path(".porchlight")
    data_dir = args.data_dir or default_dir
    options = load_options_file(config, data_dir) if config else parse_options({}, data_dir)
    for flag in ("host", "port", "token", "log_level"):
        value = getattr(args, flag)
        if value is not None:
            # Flags pass the same checks as the options file.
            setattr(options, flag, getattr(parse_options({flag: value}, data_dir), flag))
    if args.no_zeroconf:
        options.zeroconf = False
    if config == ADDON_OPTIONS and options.media_dir is None:
        options.media_dir = ADDON_MEDIA_DIR  # where Home Assistant's media browser looks
    if config == ADDON_OPTIONS:
        options.ingress_port = INGRESS_PORT  # config.yaml's ingress_port
    if args.ingress_port is not None:
        options.ingress_port = args.ingress_port
    if args.ingress_peer:
        options.ingress_peers = frozenset(args.ingress_peer)
    return options


async def run(
    options: ServiceOptions, ready_file: Path | None, redactor: RedactSecrets | None = None
) -> None:
    """Run the service until SIGINT/SIGTERM; touch `ready_file` once it listens."""
    service = Service(options)
    if redactor is not None:
        redactor.secrets = (service.identity.token,)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await service.start()
    if ready_file is not None:
        tmp = ready_file.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "port": service.port,
                    "instance_id": service.identity.instance_id,
                    "ingress_port": service.ingress_port,
                }
            )
        )
        os.replace(tmp, ready_file)
    try:
        await stop.wait()
    finally:
        _LOGGER.info("Stopping")
        await service.stop()


PRIVATE_UMASK = 0o077
"""Footage, the index, the audit log, the settings and the token are personal data: every
file the service creates is 0600 and every folder 0700, whatever the caller's umask."""


def main(argv: list[str] | None = None) -> int:
    """Run the add-on (command line `argv`); the process exit code (0 after a clean stop)."""
    os.umask(PRIVATE_UMASK)  # process-wide, before anything is created, for every thread
    args = build_parser().parse_args(argv)
    try:
        options = load(args)
    except ConfigError as err:
        print(
            f"porchlight-edge: invalid configuration: {redact_secrets(str(err))}", file=sys.stderr
        )
        return 2
    # The pictures OpenCV works on here are small (decimated luma, one JPEG per frame):
    # its thread pool costs more CPU in hand-offs than it saves, and cameras already run
    # on threads of their own.
    cv2.setNumThreads(1)
    logging.basicConfig(
        level=options.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    redactor = install()
    try:
        asyncio.run(run(options, args.ready_file, redactor))
    except OSError as err:
        _LOGGER.error("Cannot start: %s", err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
