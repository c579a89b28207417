"""CameraConfig validation: names, schemes, FFmpeg protocol injection, credential redaction."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest

from porchlight_edge.capture import CameraConfig, CaptureError, open_detect_source, open_source
from porchlight_edge.capture.urls import redact_url, validate_path, validate_url

if TYPE_CHECKING:
    from pathlib import Path

SECRET = "s3cr3tPass"


def rtsp(url: str, **kw: Any) -> CameraConfig:
    return CameraConfig.from_dict({"name": "cam", "source": "rtsp", "url": url, **kw})


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("concat:/etc/passwd|/etc/hosts", "protocol 'concat'"),
        ("concat:rtsp://host/a", "protocol 'concat'"),
        ("file:/etc/passwd", "protocol 'file'"),
        ("file:///etc/passwd", "protocol 'file'"),
        ("pipe:0", "protocol 'pipe'"),
        ("subfile,,start,0,end,100,,:/etc/passwd", "protocol 'subfile'"),
        ("data:video/mp4;base64,AAAA", "protocol 'data'"),
        ("http://cam/stream", "must start with rtsp:// or rtsps://"),
        ("rtmp://cam/live", "must start with rtsp:// or rtsps://"),
        ("/etc/passwd", "must start with rtsp:// or rtsps://"),
        ("rtsp://cam/a b", "whitespace or a control character"),
        ("rtsp://cam/a\tb", "whitespace or a control character"),
        ("rtsp://cam/a\nb", "whitespace or a control character"),
        ("rtsp://cam/a\x00", "whitespace or a control character"),
        ("rtsp://cam/a|b", "'|'"),
        ("rtsp:///path", "has no host"),
        ("rtsp:cam/path", "has no host"),
        ("rtsp://cam:99999/x", "not a valid URL"),
        ("", "url is empty"),
    ],
)
def test_rtsp_url_rejected(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^camera cam: ") as err:
        rtsp(url)
    assert message in str(err.value)


@pytest.mark.parametrize(
    "url",
    [
        "rtsp://192.168.1.20:554/stream1",
        "rtsps://cam.local/live?channel=1&subtype=0",
        f"rtsp://admin:{SECRET}@cam/h264",
    ],
)
def test_rtsp_url_accepted(url: str) -> None:
    assert rtsp(url).url == url


def test_mjpeg_schemes() -> None:
    ok = CameraConfig.from_dict({"name": "m", "source": "mjpeg", "url": "https://cam/video.cgi"})
    assert ok.url == "https://cam/video.cgi"
    with pytest.raises(ValueError, match=r"must start with http:// or https://"):
        CameraConfig.from_dict({"name": "m", "source": "mjpeg", "url": "rtsp://cam/x"})
    with pytest.raises(ValueError, match=r"protocol 'file'"):
        CameraConfig.from_dict({"name": "m", "source": "mjpeg", "url": "file:///etc/passwd"})


@pytest.mark.parametrize(
    "name", ["", "Front", "front door", "a" * 33, "front-door", "../x", "caméra", None, 3]
)
def test_bad_names(name: object) -> None:
    with pytest.raises(ValueError, match=r"camera name .* is invalid"):
        CameraConfig.from_dict({"name": name, "source": "demo"})


def test_good_name_and_defaults() -> None:
    cfg = CameraConfig.from_dict({"name": "front_door_2", "source": "demo"})
    assert (cfg.stall_seconds, cfg.rtsp_transport, cfg.realtime, cfg.effective_fps) == (
        5.0, "tcp", True, 12.0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "c", "source": "ftp"}, "source 'ftp' is not one of"),
        ({"name": "c"}, "'source' is required"),
        ({"name": "c", "source": "rtsp"}, "source 'rtsp' needs 'url'"),
        ({"name": "c", "source": "demo", "url": "rtsp://x/"}, "does not take url"),
        ({"name": "c", "source": "demo", "colour": 1}, "unknown option(s) colour"),
        ({"name": "c", "source": "demo", "fps": 0}, "fps must be in [0.1, 120]"),
        ({"name": "c", "source": "demo", "fps": "fast"}, "fps must be a number"),
        ({"name": "c", "source": "demo", "stall_seconds": -1}, "stall_seconds must be"),
        ({"name": "c", "source": "demo", "loop": "yes"}, "loop must be true or false"),
        ({"name": "c", "source": "rtsp", "url": "rtsp://h/", "rtsp_transport": "http"}, "tcp"),
        ({"name": "c", "source": "v4l2", "device": "/dev/sda"}, "must look like /dev/videoN"),
        ({"name": "c", "source": "v4l2", "device": "0"}, "must look like /dev/videoN"),
        ({"name": "c", "source": "demo", "detect_url": "rtsp://h/"}, "detect_url is only"),
        (
            {"name": "c", "source": "rtsp", "url": "rtsp://h/", "detect_url": "pipe:1"},
            "detect_url 'pipe:1' uses the protocol 'pipe'",
        ),
    ],
)
def test_config_errors(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=r"^camera c: ") as err:
        CameraConfig.from_dict(data)
    assert message in str(err.value)


def test_file_paths(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    cfg = CameraConfig.from_dict({"name": "f", "source": "file", "path": str(clip)})
    assert cfg.path == str(clip)
    for bad, message in [
        (f"concat:{clip}|{clip}", "protocol prefix 'concat'"),
        (f"file:{clip}", "protocol prefix 'file'"),
        ("pipe:0", "protocol prefix 'pipe'"),
        (f"subfile,,start,0,end,1,,:{clip}", "protocol prefix 'subfile,,start,0,end,1,,'"),
        (str(tmp_path / "missing.mp4"), "is not an existing file"),
        (str(tmp_path), "is not an existing file"),
        (f"{clip}|x", "'|'"),
    ]:
        with pytest.raises(ValueError, match=r"^camera f: ") as err:
            CameraConfig.from_dict({"name": "f", "source": "file", "path": bad})
        assert message in str(err.value), bad
    with pytest.raises(ValueError, match="is not an existing directory"):
        CameraConfig.from_dict({"name": "f", "source": "images", "path": str(clip)})


def test_relative_path_becomes_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An absolute path can only be read by FFmpeg's file protocol, whatever it contains."""
    (tmp_path / "a:b.mp4").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="protocol prefix 'a'"):
        validate_path("a:b.mp4")
    resolved = validate_path("./a:b.mp4")
    assert resolved == tmp_path / "a:b.mp4"
    assert resolved.is_absolute()


def test_redact_url() -> None:
    assert redact_url(f"rtsp://user:{SECRET}@host:554/x") == "rtsp://***@host:554/x"
    assert redact_url("rtsp://host/x") == "rtsp://host/x"
    assert redact_url(f"open rtsp://u:{SECRET}@h/a failed; http://a:b@c/") == (
        "open rtsp://***@h/a failed; http://***@c/"
    )
    assert SECRET not in redact_url(f"rtsp://user:{SECRET}@@weird@host/")


@pytest.mark.parametrize(
    "url",
    [
        f"rtsp://user:{SECRET}@host/a b",
        f"rtsp://user:{SECRET}@host/a|b",
        f"http://user:{SECRET}@host/",
        f"rtsp://user:{SECRET}@host:0x/",
    ],
)
def test_errors_never_show_password(url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ValueError, match=r"\*\*\*@host") as err:
        rtsp(url)
    assert SECRET not in str(err.value)
    assert SECRET not in caplog.text


async def test_connect_failure_never_shows_password(caplog: pytest.LogCaptureFixture) -> None:
    """A real failed connection (nothing listens on port 9) logs and raises redacted text."""
    caplog.set_level(logging.DEBUG)
    cfg = rtsp(f"rtsp://user:{SECRET}@127.0.0.1:9/cam", open_timeout=3, read_timeout=3)
    source = open_source(cfg)
    with pytest.raises(CaptureError) as err:
        async for _ in source.frames():
            pass
    await source.close()
    assert "rtsp://***@127.0.0.1:9/cam" in str(err.value)
    assert SECRET not in str(err.value)
    assert SECRET not in caplog.text


def test_validate_url_direct() -> None:
    assert validate_url("rtsps://h/x", "rtsp") == "rtsps://h/x"
    with pytest.raises(ValueError, match="does not take a URL"):
        validate_url("rtsp://h/", "file")


def test_detect_source_uses_detect_url() -> None:
    cfg = rtsp("rtsp://cam/main", detect_url="rtsp://cam/sub")
    detect = open_detect_source(cfg)
    assert detect is not None
    assert detect.name == "cam:detect"
    assert getattr(detect, "redacted_url", None) == "rtsp://cam/sub"
    assert open_detect_source(rtsp("rtsp://cam/main")) is None


def test_base_imports_no_source_module() -> None:
    """The factory lives outside capture/base.py: base imports no source (no import cycle)."""
    import ast
    from pathlib import Path

    from porchlight_edge.capture import base

    tree = ast.parse(Path(base.__file__).read_text())
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    sources = {f"porchlight_edge.capture.{m}" for m in ("demo", "rtsp", "mjpeg", "v4l2", "files")}
    assert not imported & sources, imported & sources
