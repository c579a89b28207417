"""In-band parameter sets: a camera that changes its SPS mid-session starts a new stream.

RTSP cameras announce SPS/PPS (H.265: VPS/SPS/PPS) in the SDP and repeat them in-band
before keyframes.
When they switch resolution or profile (a settings change, day/night modes on some
models) only the in-band copy changes: the demuxer's stream still describes the old
one. Muxing on under the old header gives a clip that holds both sizes under one
header, which players show broken. So the recorder's stream parameters follow the
in-band sets, and a change is a new stream (a new clip segment with its own header).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .packets import StreamParams, annexb_parameter_sets


class InbandParameterSets:
    """Tracks the parameter sets of one source's passthrough packets (Annex-B only)."""

    def __init__(self) -> None:
        self._base: StreamParams | None = None
        self._current: StreamParams | None = None

    def params(
        self, base: StreamParams, packets: tuple[Any, ...], size: tuple[int, int]
    ) -> StreamParams:
        """`base` (the demuxer's description), or a copy with the latest in-band parameter sets.

        The copy carries the SPS/PPS of the latest keyframe among `packets` when they
        differ from `base`'s. `size` is (width, height) of the pictures decoded with them.
        """
        if base != self._base:  # a new demuxer session: forget the old camera's sets
            self._base, self._current = base, base
        assert self._current is not None
        if not base.annexb:
            return base
        for pkt in packets:
            if not pkt.is_keyframe or not pkt.size:
                continue
            sets = annexb_parameter_sets(bytes(pkt), base.codec)
            if sets is None or sets == self._current.extradata:
                continue
            if sets == base.extradata:
                self._current = base
            else:
                width, height = size
                self._current = replace(base, width=width, height=height, extradata=sets)
        return self._current
