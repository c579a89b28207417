"""A RingPublisher that records presses, for capture tests without a service."""

from __future__ import annotations

from porchlight_edge.protocol import RingSource


class RecordedRings:
    """Keeps every published press as (camera, source), in order."""

    def __init__(self) -> None:
        self.presses: list[tuple[str, RingSource]] = []

    def publish_ring(self, camera: str, source: RingSource) -> None:
        """Record one press."""
        self.presses.append((camera, source))
