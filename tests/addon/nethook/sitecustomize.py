"""Loaded by the add-on process under test: logs every network destination it uses.

Python's audit hooks see each socket connect, send and name look-up, whichever
library makes it, so the test can prove that nothing leaves the machine.
"""

import json
import os
import sys

_LOG = open(os.environ["PORCHLIGHT_NET_LOG"], "a", buffering=1)  # noqa: SIM115
_EVENTS = {"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo"}


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event not in _EVENTS:
        return
    target = args[0:2] if event == "socket.getaddrinfo" else args[1]
    _LOG.write(json.dumps({"event": event, "target": repr(target)}) + "\n")


sys.addaudithook(_hook)
