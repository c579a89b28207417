"""Validation of everything a camera config hands to FFmpeg, OpenCV or aiohttp.

FFmpeg treats its "filename" as a URL with a protocol prefix (`concat:`, `file:`,
`pipe:`, `subfile,,...:`, `data:`, ...), so a config string that reaches `av.open`
unchecked could read arbitrary files or pipes. Every kind therefore has an allow-list
of schemes, and the strings are rejected on whitespace, control characters and `|`.
Errors and logs show URLs only through `redact_url`, so passwords never leak.
A password with a raw `/`, `?` or `#` makes the URL ambiguous: it is refused with a
hint to percent-encode it.
"""

from __future__ import annotations

from pathlib import Path
import re
from urllib.parse import SplitResult, urlsplit

from porchlight_edge.protocol import REDACTED, redact_secrets

SCHEMES_BY_KIND: dict[str, frozenset[str]] = {
    "rtsp": frozenset({"rtsp", "rtsps"}),
    "mjpeg": frozenset({"http", "https"}),
}

# FFmpeg protocols that would let a config read local files, pipes or inline data.
_DANGEROUS_PROTOCOLS = frozenset(
    {"concat", "concatf", "file", "pipe", "subfile", "data", "fd", "cache", "crypto", "async"}
    | {"tee", "ffrtmpcrypt", "gopher", "unix", "md5", "hls", "ftp", "sftp"}
)
_DEVICE_RE = re.compile(r"^/dev/video[0-9]{1,3}$")
# What FFmpeg reads as a protocol prefix: scheme characters (and `,` for `subfile,,`) then `:`.
_PROTOCOL_PREFIX_RE = re.compile(r"^([A-Za-z0-9+.,-]+):")
MAX_URL_LENGTH = 2048
"""Longest URL or path a camera config may hold."""
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def redact_url(url: str) -> str:
    """`url` with credentials (userinfo, secret query parameters) replaced by `***`.

    Works on malformed input and on text that merely contains URLs (error messages);
    see `protocol.redact_secrets`.
    """
    scheme, slashes, rest = url.partition("://")
    if _SCHEME_RE.fullmatch(scheme) and "://" not in rest and "@" in rest:
        # One whole URL: its userinfo ends at the last `@`, whatever it holds (a password
        # with a space or a quote is refused, and the refusal must not show it).
        url = f"{scheme}{slashes}{REDACTED}@{rest.rpartition('@')[2]}"
    return redact_secrets(url)


_ENCODE_HINT = "percent-encode them in the password (/ → %2F, ? → %3F, # → %23, @ → %40)"


def _check_userinfo(url: str, parts: SplitResult, field: str, shown: str) -> None:
    """Refuse a URL whose credentials hold a raw `/`, `?` or `#` (ValueError).

    The host would be read from the middle of the password (and the password sent to it).
    """
    _, slashes, rest = url.partition("//")
    if slashes and "@" in rest[len(parts.netloc) :]:
        raise ValueError(
            f"{field} {shown!r} is ambiguous: its user or password seems to contain '/', '?'"
            f" or '#'; {_ENCODE_HINT}"
        )


def _check_chars(value: str, what: str, shown: str) -> None:
    if not value:
        raise ValueError(f"{what} is empty")
    if len(value) > MAX_URL_LENGTH:
        raise ValueError(f"{what} is longer than {MAX_URL_LENGTH} characters")
    for ch in value:
        if ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or not ch.isprintable():
            raise ValueError(f"{what} {shown!r} contains whitespace or a control character")
    if "|" in value:
        raise ValueError(f"{what} {shown!r} contains '|', which is not allowed")


def validate_url(url: object, kind: str, field: str = "url") -> str:
    """Return `url` when it is a safe network URL for a source of `kind`, else ValueError."""
    if not isinstance(url, str):
        raise ValueError(f"{field} must be a string")
    shown = redact_url(url)
    allowed = SCHEMES_BY_KIND.get(kind)
    if allowed is None:
        raise ValueError(f"source kind {kind!r} does not take a URL")
    prefix = _PROTOCOL_PREFIX_RE.match(url)
    scheme = prefix.group(1).lower() if prefix else ""
    first = re.split(r"[+,]", scheme, maxsplit=1)[0]
    # Name the protocol first: it is the more useful message for `concat:a|b`.
    if first in _DANGEROUS_PROTOCOLS or (scheme not in allowed and "," in scheme):
        raise ValueError(f"{field} {shown!r} uses the protocol {first!r}, which is not allowed")
    _check_chars(url, field, shown)
    if scheme not in allowed:
        raise ValueError(
            f"{field} {shown!r} must start with {' or '.join(sorted(s + '://' for s in allowed))}"
        )
    try:
        parts: SplitResult = urlsplit(url)
    except ValueError:
        raise ValueError(f"{field} {shown!r} is not a valid URL") from None
    _check_userinfo(url, parts, field, shown)
    try:
        port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        # Not urllib's message: it quotes what it took for the port (maybe the password).
        raise ValueError(f"{field} {shown!r} is not a valid URL: invalid port") from None
    del port
    if not url.lower().startswith(f"{scheme}://") or not parts.hostname:
        raise ValueError(f"{field} {shown!r} has no host (expected {scheme}://host/...)")
    return url


def validate_path(path: object, field: str = "path", *, directory: bool = False) -> Path:
    """Absolute, existing filesystem path; rejects FFmpeg protocol prefixes like `concat:`.

    The result is absolute, so FFmpeg always reads it with its `file` protocol.
    """
    if not isinstance(path, str | Path):
        raise ValueError(f"{field} must be a string")
    text = str(path)
    prefix = _PROTOCOL_PREFIX_RE.match(text)
    if prefix is not None:
        raise ValueError(
            f"{field} {text!r} starts with a protocol prefix {prefix.group(1)!r}:"
            " give a plain filesystem path"
        )
    _check_chars(text, field, text)
    resolved = Path(text).expanduser().resolve()
    if directory:
        if not resolved.is_dir():
            raise ValueError(f"{field} {text!r} is not an existing directory")
    elif not resolved.is_file():
        raise ValueError(f"{field} {text!r} is not an existing file")
    return resolved


def validate_device(device: object, field: str = "device") -> str:
    """A V4L2 device node `/dev/videoN` (existence is checked when the source opens)."""
    if not isinstance(device, str) or not _DEVICE_RE.match(device):
        raise ValueError(f"{field} must look like /dev/videoN, got {device!r}")
    return device
