"""Camera URLs as the set-up page sees them: the password never leaves the add-on.

`public_view(url)` splits a stored URL into what the page may show (the URL without
user or password and with secret query parameters as `***`, the user name, and whether
a password is set). `merge(url, username, password, stored)` builds the URL to test or
save from what the page sends back: a password of None keeps the stored one, but only
for the same scheme, host and port, so nobody can send a stored password to a host of
their choosing by editing the address.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit, urlunsplit

from porchlight_edge.protocol import REDACTED, redact_secrets


def _netloc(host: str | None, port: int | None) -> str:
    if host is None:
        return ""
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


def strip_userinfo(url: str) -> str:
    """`url` without its `user:password@` part (other parts untouched)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def public_view(url: str) -> tuple[str, str | None, bool]:
    """(url without credentials and with secret parameters `***`, user name, password set)."""
    parts = urlsplit(url)
    username = unquote(parts.username) if parts.username else None
    return redact_secrets(strip_userinfo(url)), username, parts.password is not None


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def merge(url: str, username: str | None, password: str | None, stored: str | None) -> str:
    """The full URL from the page's fields.

    `url` may carry no user or password of its own (ValueError: they go in `username`
    and `password`). `password` None keeps `stored`'s password when `stored` has the same
    scheme, host and port. `***` in `url` (a redacted secret parameter) is accepted only
    when `url` is `stored`'s public form, and then means "unchanged".
    """
    if "@" in urlsplit(url).netloc:
        raise ValueError("put the user name and password in their own fields, not in the URL")
    base = url
    if REDACTED in url:
        if stored is None or public_view(stored)[0] != url:
            raise ValueError("the URL contains *** (a hidden secret): type the secret again")
        base = strip_userinfo(stored)
    same_origin = stored is not None and _origin(stored) == _origin(url)
    raw_password: str | None = None
    if password is not None:
        raw_password = quote(password, safe="")
    elif same_origin and stored is not None:
        raw_password = urlsplit(stored).password
    if raw_password is not None and not username:
        raise ValueError("a password needs a user name")
    if not username:
        return base
    parts = urlsplit(base)
    userinfo = quote(username, safe="") + (f":{raw_password}" if raw_password is not None else "")
    netloc = f"{userinfo}@{_netloc(parts.hostname, parts.port)}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
