"""Camera credentials never reach the log, status_reason or camera_status events, in any
form a URL can carry them; the real add-on process is checked end to end."""

from __future__ import annotations

from collections.abc import Iterator
import json
import logging
from pathlib import Path
import subprocess
import time

import aiohttp
import pytest

from porchlight_edge.capture.urls import redact_url, validate_url
from porchlight_edge.protocol import redact_secrets
from porchlight_edge.redaction import RedactSecrets
from tests.e2e.addon_process import ROOT, AddonProcess, addon_argv
from tests.helpers.rtsp_server import free_port

SECRETS = ("Sunny", "Day42", "hunter2", "s3cr3t", "tok3n", "k3y", "p4ss", "Alice@Home")

LEAKY = [
    "rtsp://admin:Sunny/Day42@cam.lan/live",
    "rtsp://admin:Alice@Home@cam.lan:554/live",
    "http://cam.lan/video.cgi?usr=admin&pwd=hunter2",
    "http://cam.lan/snap.jpg?user=admin&password=s3cr3t&channel=1",
    "http://cam.lan/mjpg?token=tok3n",
    "http://cam.lan/mjpg?auth=tok3n&key=k3y",
    "http://cam.lan/mjpg?api_key=k3y#pass=p4ss",
    "rtsp://192.168.1.9:554/user=admin&password=s3cr3t&channel=1&stream=0.sdp",
    "rtsp://cam.lan/live?rtsp_pass=p4ss&PASS=p4ss&Pwd=hunter2",
    "Server returned 401 Unauthorized for 'rtsp://admin:Sunny/Day42@cam.lan/live' (retrying)",
    # Parameter names that only contain a secret word, or are its one-letter form.
    "http://cam.lan/videostream.cgi?loginuse=admin&loginpas=p4ss",
    "http://cam.lan/snapshot.cgi?user=admin&psw=p4ss&passwort=s3cr3t",
    "http://cam.lan/cgi-bin/snapshot.cgi?u=admin&p=p4ss",
    # Quotes in a password, bare and inside a quoted error message.
    'rtsp://admin:p4ss"s3cr3t@cam.lan/live',
    "Error opening 'rtsp://admin:it's-p4ss@cam.lan/live': refused",
]

REFUSED = [
    "rtsp://admin:Sunny Day42@cam.lan/live",
    "rtsp://admin:hunter2\tDay42@cam.lan/live",
    "rtsp://admin:s3cr3t|p4ss@cam.lan/live",
    "rtsp://admin:Sunny\x7fDay42@cam.lan/live",
]


@pytest.mark.parametrize("text", LEAKY)
def test_every_credential_form_is_redacted(text: str) -> None:
    shown = redact_url(text)
    for secret in SECRETS:
        assert secret not in shown, shown
    assert "***" in shown
    assert redact_secrets(shown) == shown  # stable: redacting twice changes nothing


def test_urls_without_credentials_are_left_alone() -> None:
    for url in ("rtsp://cam.lan:554/live?channel=1&subtype=0", "http://cam.lan/keyboard?monkey=1"):
        assert redact_url(url) == url


def test_an_ambiguous_password_is_refused_with_the_percent_encoding_hint() -> None:
    with pytest.raises(ValueError, match="percent-encode") as err:
        validate_url("rtsp://admin:Sunny/Day42@cam.lan/live", "rtsp")
    assert "Sunny" not in str(err.value)
    assert "Day42" not in str(err.value)
    # Percent-encoded, the same password is fine.
    assert validate_url("rtsp://admin:Sunny%2FDay42@cam.lan/live", "rtsp")


@pytest.mark.parametrize("url", REFUSED)
def test_a_refused_url_is_shown_without_its_password(url: str) -> None:
    with pytest.raises(ValueError, match=r"whitespace|control|not allowed") as err:
        validate_url(url, "rtsp")
    for secret in SECRETS:
        assert secret not in str(err.value), err.value


def test_the_log_filter_redacts_messages_tracebacks_and_the_token() -> None:
    token = "the-access-token-0123456789"
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.addFilter(RedactSecrets((token,)))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    try:
        try:
            raise OSError(f"open rtsp://admin:Sunny/Day42@cam.lan/live?pwd=hunter2 {token}")
        except OSError:
            logger.exception("camera %s failed", "http://cam.lan/x?password=s3cr3t")
    finally:
        logger.removeHandler(handler)
    assert records
    text = records[0]
    assert "Traceback" in text
    for secret in (*SECRETS, token):
        assert secret not in text, text


@pytest.fixture
def leaky_addon(tmp_path: Path) -> Iterator[AddonProcess]:
    """The add-on with cameras whose URLs carry credentials, pointed at closed ports."""
    closed = free_port()
    addon = AddonProcess(
        tmp_path / "addon",
        {
            "cameras": [
                {
                    "name": "rtsp_cam",
                    "source": "rtsp",
                    "url": f"rtsp://admin:Alice@Home@127.0.0.1:{closed}/live?pwd=hunter2&token=tok3n",
                    "open_timeout": 1,
                },
                {
                    "name": "mjpeg_cam",
                    "source": "mjpeg",
                    "url": f"http://admin:p4ss@127.0.0.1:{closed}/video.cgi?usr=admin&pwd=s3cr3t",
                    "open_timeout": 1,
                },
            ]
        },
    )
    addon.start()
    try:
        yield addon
    finally:
        addon.stop()


async def test_credentials_never_reach_log_status_or_events(leaky_addon: AddonProcess) -> None:
    base = f"http://127.0.0.1:{leaky_addon.port}"
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{base}/api/websocket")
        info = await ws.receive_json(timeout=5)
        await ws.send_json({"type": "auth", "token": leaky_addon.token})
        assert (await ws.receive_json(timeout=5))["type"] == "auth_ok"
        # Replay from the start: the cameras may have failed before we subscribed.
        since = {"boot_id": info["boot_id"], "seq": 0}
        await ws.send_json({"message_id": 1, "command": "subscribe", "args": {"since": since}})
        seen: list[str] = []
        reasons: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while len(reasons) < 2 and time.monotonic() < deadline:
            message = await ws.receive_json(timeout=30)
            seen.append(json.dumps(message))
            data = message.get("data", {})
            if message.get("event") == "camera_status" and data.get("status") == "offline":
                reasons[message["camera"]] = data["reason"]
        assert set(reasons) == {"rtsp_cam", "mjpeg_cam"}, seen
        await ws.send_json({"message_id": 2, "command": "get_state"})
        while (reply := await ws.receive_json(timeout=5)).get("message_id") != 2:
            seen.append(json.dumps(reply))
        seen.append(json.dumps(reply))
        await ws.close()
    log = (leaky_addon.data_dir / "addon.log").read_text(errors="replace")
    assert "127.0.0.1" in " ".join(reasons.values())  # the reasons do name the camera
    for secret in SECRETS:
        assert secret not in log, f"{secret} in the log:\n{leaky_addon.log_tail()}"
        for text in seen:
            assert secret not in text, text
    assert leaky_addon.token not in log


@pytest.mark.parametrize(
    "url",
    ["rtsp://admin:Sunny/Day42@cam.lan/live?pwd=hunter2", "rtsp://admin:Sunny Day42@cam.lan/"],
)
def test_a_start_up_error_never_prints_the_password(tmp_path: Path, url: str) -> None:
    config = tmp_path / "options.json"
    config.write_text(json.dumps({"cameras": [{"name": "a", "source": "rtsp", "url": url}]}))
    result = subprocess.run(
        addon_argv(config, tmp_path / "data", "--no-zeroconf"),
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT / "addon"), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "percent-encode" in result.stderr or "whitespace" in result.stderr
    for secret in SECRETS:
        assert secret not in result.stderr + result.stdout
