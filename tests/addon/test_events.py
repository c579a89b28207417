"""Event bus: numbering, replay after a reconnect, gaps and boot changes."""

from porchlight_edge.events import EventBus
from porchlight_edge.protocol import EventMessage, EventType


def _collect() -> tuple[list[EventMessage], object]:
    got: list[EventMessage] = []
    return got, got.append


def test_events_are_numbered_and_stamped() -> None:
    bus = EventBus(boot_id="boot1")
    first = bus.publish(EventType.RING, "front", {"source": "api"}, at=100.0)
    second = bus.publish(EventType.MOTION, "front", {"active": True})
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["boot_id"] == "boot1"
    assert first["time"] == 100.0
    assert second["time"] > 1_000_000_000


def test_replay_since_returns_each_missed_event_once() -> None:
    bus = EventBus(boot_id="b")
    for i in range(5):
        bus.publish(EventType.RING, "front", {"n": i})
    got: list[EventMessage] = []
    replay = bus.subscribe(got.append, since=("b", 2))
    assert [e["seq"] for e in replay.events] == [3, 4, 5]
    assert not replay.gap
    bus.publish(EventType.RING, "front", {"n": 5})
    assert [e["seq"] for e in got] == [6]


def test_replay_reports_gap_when_buffer_overflowed() -> None:
    bus = EventBus(buffer_size=3, boot_id="b")
    for i in range(10):
        bus.publish(EventType.RING, "front", {"n": i})
    replay = bus.subscribe(lambda e: None, since=("b", 2))
    assert [e["seq"] for e in replay.events] == [8, 9, 10]
    assert replay.gap


def test_up_to_date_client_gets_nothing_and_no_gap() -> None:
    bus = EventBus(buffer_size=3, boot_id="b")
    for i in range(10):
        bus.publish(EventType.RING, "front", {"n": i})
    replay = bus.subscribe(lambda e: None, since=("b", 10))
    assert replay.events == []
    assert not replay.gap


def test_other_boot_replays_nothing() -> None:
    bus = EventBus(boot_id="new")
    bus.publish(EventType.RING, "front", {})
    replay = bus.subscribe(lambda e: None, since=("old", 0))
    assert replay.events == []
    assert not replay.gap


def test_unsubscribe_stops_delivery() -> None:
    bus = EventBus()
    got: list[EventMessage] = []
    bus.subscribe(got.append)
    bus.publish(EventType.RING, None, {})
    bus.unsubscribe(got.append)
    bus.publish(EventType.RING, None, {})
    assert len(got) == 1
