"""The doorbell button on a GPIO line (libgpiod), with debounce and edge logic.

A press counts once the line has been active for the debounce period, so
contact bounce and short electrical spikes never ring the bell twice or by
themselves. The ring then goes through the same path as the API's ring command.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
import logging
from pathlib import Path
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ButtonConfig:
    """The doorbell's GPIO line: chip path, line 0-1023, polarity, debounce 0-1000 ms, camera.

    ValueError for a value out of range; `camera` None means the first camera.
    """

    chip: str = "/dev/gpiochip0"
    line: int = 17
    active_low: bool = True
    debounce_ms: int = 50
    camera: str | None = None

    def __post_init__(self) -> None:
        if not self.chip.startswith("/dev/gpiochip"):
            raise ValueError(f"button.chip must be a /dev/gpiochipN path, got {self.chip!r}")
        if not 0 <= self.line <= 1023:
            raise ValueError(f"button.line must be 0-1023, got {self.line}")
        if not 0 <= self.debounce_ms <= 1000:
            raise ValueError(f"button.debounce_ms must be 0-1000, got {self.debounce_ms}")


class Debouncer:
    """Turns raw (time, active) edges into presses.

    The stable level changes only after the raw level has held for `debounce`
    seconds; a press is the stable level becoming active.
    """

    def __init__(self, debounce: float) -> None:
        self.debounce = debounce
        self.active = False
        self._pending: tuple[bool, float] | None = None

    def edge(self, at: float, active: bool) -> bool:
        """Feed one raw edge; True when it confirms a press that was pending."""
        pressed = self.poll(at)
        self._pending = (active, at) if active != self.active else None
        if self._pending is not None and self.debounce == 0:
            pressed = self.poll(at) or pressed
        return pressed

    def poll(self, now: float) -> bool:
        """True when a pending active level has now held long enough."""
        if self._pending is None or now - self._pending[1] < self.debounce:
            return False
        self.active = self._pending[0]
        self._pending = None
        return self.active

    @property
    def waiting(self) -> bool:
        """True while a level change waits out its debounce period."""
        return self._pending is not None


class LineSource(Protocol):
    """Raw edges from one input line; `wait` returns [] on timeout."""

    def wait(self, timeout: float) -> list[tuple[float, bool]]:
        """Wait up to `timeout` seconds for edges: (time in s, active) pairs, [] on timeout."""
        ...

    def close(self) -> None:
        """Release the line."""
        ...


class GpiodLine:
    """A libgpiod v2 line request with edge events on both edges."""

    def __init__(self, config: ButtonConfig) -> None:
        import gpiod  # optional dependency: only needed with a real button
        from gpiod.line import Direction, Edge

        if not Path(config.chip).exists():
            raise FileNotFoundError(f"GPIO chip {config.chip} does not exist")
        settings = gpiod.LineSettings(
            direction=Direction.INPUT,
            edge_detection=Edge.BOTH,
            active_low=config.active_low,
        )
        self._request: Any = gpiod.request_lines(
            config.chip, consumer="porchlight", config={config.line: settings}
        )
        self._rising = gpiod.EdgeEvent.Type.RISING_EDGE

    def wait(self, timeout: float) -> list[tuple[float, bool]]:
        """Edges within `timeout` seconds as (kernel time in s, rising); [] on timeout."""
        if not self._request.wait_edge_events(timedelta(seconds=timeout)):
            return []
        return [
            (event.timestamp_ns / 1e9, event.event_type == self._rising)
            for event in self._request.read_edge_events()
        ]

    def close(self) -> None:
        """Release the line."""
        self._request.release()


class ButtonWatcher:
    """Reads a line in a thread and calls `on_press` (from that thread) per press."""

    def __init__(
        self,
        source: LineSource,
        debounce_ms: int,
        on_press: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._debouncer = Debouncer(debounce_ms / 1000)
        self._on_press = on_press
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="porchlight-button", daemon=True)

    def start(self) -> None:
        """Start watching in a new thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (waits up to 2 s) and release the line."""
        self._stop.set()
        self._thread.join(timeout=2)
        self._source.close()

    def _run(self) -> None:
        idle = 0.5
        while not self._stop.is_set():
            # While a level is pending, wake up when its debounce period ends.
            timeout = self._debouncer.debounce if self._debouncer.waiting else idle
            edges = self._source.wait(max(timeout, 0.001))
            for at, active in edges:
                if self._debouncer.edge(at, active):
                    self._on_press()
            if self._debouncer.poll(self._clock()):
                self._on_press()


def open_button(config: ButtonConfig, on_press: Callable[[], None]) -> ButtonWatcher | None:
    """Start watching the button; None (with one clear log line) when there is no GPIO."""
    try:
        line = GpiodLine(config)
    except ImportError:
        _LOGGER.error("GPIO button configured but the 'gpiod' package is not installed")
    except (OSError, ValueError) as err:
        _LOGGER.error("GPIO button unavailable (%s line %d): %s", config.chip, config.line, err)
    else:
        watcher = ButtonWatcher(line, config.debounce_ms, on_press)
        watcher.start()
        _LOGGER.info("Doorbell button on %s line %d", config.chip, config.line)
        return watcher
    return None
