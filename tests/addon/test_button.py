"""Doorbell button: debounce and edge logic, with a fake line source."""

import asyncio
from collections import deque
import logging
from pathlib import Path
import threading

import pytest

from porchlight_edge.button import ButtonConfig, ButtonWatcher, Debouncer, open_button
from porchlight_edge.protocol import EventMessage, EventType, RingSource
from tests.helpers.service import demo_cameras, loopback_options, running_service
from tests.helpers.waiting import wait_until


def presses(debouncer: Debouncer, edges: list[tuple[float, bool]], end: float) -> list[float]:
    out = [at for at, active in edges if debouncer.edge(at, active)]
    if debouncer.poll(end):
        out.append(end)
    return out


def test_clean_press_counts_once_after_debounce() -> None:
    d = Debouncer(0.05)
    assert presses(d, [(1.0, True), (1.3, False)], end=2.0) == [1.3]


def test_contact_bounce_is_one_press() -> None:
    d = Debouncer(0.05)
    bounce = [(1.000, True), (1.004, False), (1.007, True), (1.010, False), (1.012, True)]
    release = [(1.500, False), (1.503, True), (1.506, False)]
    assert len(presses(d, bounce + release, end=3.0)) == 1


def test_short_spike_is_ignored() -> None:
    d = Debouncer(0.05)
    assert presses(d, [(1.0, True), (1.02, False)], end=2.0) == []


def test_two_separate_presses() -> None:
    d = Debouncer(0.05)
    edges = [(1.0, True), (1.2, False), (2.0, True), (2.2, False)]
    assert len(presses(d, edges, end=3.0)) == 2


def test_held_button_rings_once() -> None:
    d = Debouncer(0.05)
    assert presses(d, [(1.0, True)], end=10.0) == [10.0]
    assert not d.poll(20.0)


def test_zero_debounce_presses_on_edge() -> None:
    d = Debouncer(0.0)
    assert presses(d, [(1.0, True), (1.001, False), (1.002, True)], end=1.003) == [1.0, 1.002]


class FakeLine:
    """Delivers scripted edges; times are on the fake clock."""

    def __init__(self, edges: list[tuple[float, bool]]) -> None:
        self.edges = deque(edges)
        self.now = 0.0
        self.closed = False
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def wait(self, timeout: float) -> list[tuple[float, bool]]:
        with self.lock:
            if self.edges:
                edge = self.edges.popleft()
                self.now = edge[0]
                return [edge]
            self.now += timeout
            return []

    def close(self) -> None:
        self.closed = True


def test_watcher_thread_rings_through_callback() -> None:
    line = FakeLine([(1.0, True), (1.003, False), (1.005, True), (1.4, False), (2.0, True)])
    rang = threading.Event()
    count: list[int] = []

    def on_press() -> None:
        count.append(1)
        if len(count) == 2:
            rang.set()

    watcher = ButtonWatcher(line, 50, on_press, clock=line.clock)
    watcher.start()
    assert rang.wait(5)
    watcher.stop()
    assert line.closed
    assert len(count) == 2


def test_missing_gpio_chip_is_a_clear_message(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    watcher = open_button(ButtonConfig(chip="/dev/gpiochip99"), lambda: None)
    assert watcher is None
    assert "gpiochip99" in caplog.text or "gpiod" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"chip": "/tmp/x"}, "button.chip"),
        ({"line": -1}, "button.line"),
        ({"debounce_ms": 5000}, "button.debounce_ms"),
    ],
)
def test_bad_button_config(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ButtonConfig(**kwargs)  # type: ignore[arg-type]


async def test_button_press_is_a_button_ring_on_the_bus(tmp_path: Path) -> None:
    """A press from the watcher thread reaches the bus as RingSource.BUTTON at its camera."""
    raw = loopback_options("t" * 32, demo_cameras(160, 96, "front_door", "side"))
    async with running_service(raw, tmp_path) as service:
        rings: list[EventMessage] = []
        service.bus.subscribe(
            lambda e: rings.append(e) if e["event"] == EventType.RING else None, None
        )
        line = FakeLine([(1.0, True), (1.4, False)])
        press = service.button_press(ButtonConfig(camera="side"))
        watcher = ButtonWatcher(line, 50, press, clock=line.clock)
        watcher.start()
        await wait_until(lambda: any(e["data"]["source"] == RingSource.BUTTON for e in rings))
        await asyncio.to_thread(watcher.stop)
        button = [e for e in rings if e["data"]["source"] == RingSource.BUTTON]
        assert [e["camera"] for e in button] == ["side"]
