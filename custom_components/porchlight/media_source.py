"""Media browser: recorded events by camera, then day, then type; clips and snapshots.

Identifiers (after `media-source://porchlight/`):
- `<entry_id>/<camera>`: the days that have events; `…/<YYYY-MM-DD>`: the event types of
  that day; `…/<YYYY-MM-DD>/<kind>`: the events, newest first.
- `<entry_id>/clip~<clip_id>` and `<entry_id>/snapshot~<event_id>`: playable leaves
  (`~` cannot appear in a camera name, so the two kinds of identifier never collide).

Playback resolves to a signed path of the proxy views (views.py): the add-on's token
never leaves Home Assistant, and the signature carries the user for the audit log.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, override

from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.media_player.const import MediaClass, MediaType
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .media_titles import Titles, user_titles
from .pyporchlight.exceptions import PorchlightError
from .pyporchlight.http import CLIP_ID_RE
from .pyporchlight.protocol import CAMERA_NAME_RE, ClipState, EventKind, EventRecord
from .views import clip_url, snapshot_url

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .data import PorchlightConfigEntry
    from .pyporchlight.client import PorchlightClient

CLIP: Final = "clip~"
SNAPSHOT: Final = "snapshot~"
URL_LIFETIME: Final = timedelta(hours=1)
"""How long a resolved (signed) playback URL works."""
PAGE: Final = 200
MAX_EVENTS: Final = 2000
"""Events read for one listing; older ones are left out (docs: known limitations)."""
KIND_TITLES: Final = {
    EventKind.RING: "Rings",
    EventKind.MOTION: "Motion",
    EventKind.MANUAL: "Manual",
}


async def async_get_media_source(hass: HomeAssistant) -> MediaSource:
    """The Porchlight media source (recordings of every loaded add-on)."""
    return PorchlightMediaSource(hass)


async def fetch_events(client: PorchlightClient, **query: Any) -> list[EventRecord]:
    """Every event matching `query`, newest first, up to MAX_EVENTS (page by page).

    Each once: an event announced between two pages moves the older ones on by one, so a
    page can repeat the last event of the one before.
    """
    events: dict[str, EventRecord] = {}
    offset: int | None = 0
    while offset is not None and len(events) < MAX_EVENTS:
        page = await client.list_events(limit=PAGE, offset=offset, **query)
        for event in page["events"]:
            events.setdefault(event["id"], event)
        offset = page.get("next_offset")
    return list(events.values())[:MAX_EVENTS]


def local_time(timestamp: float) -> datetime:
    """A Unix timestamp (seconds) as an aware datetime in Home Assistant's time zone."""
    return dt_util.as_local(dt_util.utc_from_timestamp(timestamp))


def day_bounds(day: date) -> tuple[float, float]:
    """Start and end of a local calendar day as epoch seconds (DST-proof)."""
    start = dt_util.start_of_local_day(day)
    end = dt_util.start_of_local_day(day + timedelta(days=1))
    return start.timestamp(), end.timestamp()


class PorchlightMediaSource(MediaSource):
    """Recordings by add-on, camera, day and kind.

    Clips and snapshots play through the integration's authenticated proxy views
    (signed paths), never from the add-on directly.
    """

    name = "Porchlight"

    def __init__(self, hass: HomeAssistant) -> None:
        super().__init__(DOMAIN)
        self.hass = hass

    # --- resolve ----------------------------------------------------------------------------

    @override
    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        entry_id, _, leaf = item.identifier.partition("/")
        self._entry(entry_id, Unresolvable)
        if leaf.startswith(CLIP) and CLIP_ID_RE.match(clip_id := leaf.removeprefix(CLIP)):
            path, mime = clip_url(entry_id, clip_id), "video/mp4"
        elif leaf.startswith(SNAPSHOT) and (event_id := leaf.removeprefix(SNAPSHOT)):
            path, mime = snapshot_url(entry_id, event_id), "image/jpeg"
        else:
            raise Unresolvable(f"not a Porchlight clip or snapshot: {item.identifier}")
        # Signed for the user of the current websocket or request (or the content user for
        # a media player), so the proxy knows whom to name in the add-on's audit log.
        return PlayMedia(async_sign_path(self.hass, path, URL_LIFETIME), mime)

    # --- browse -----------------------------------------------------------------------------

    @override
    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        if not item.identifier:
            return self._root()
        entry_id, *parts = item.identifier.split("/")
        entry = self._entry(entry_id, BrowseError)
        camera = parts[0]
        if camera not in entry.runtime_data.cameras or len(parts) > 3:
            raise BrowseError(f"unknown Porchlight media: {item.identifier}")
        try:
            if len(parts) == 1:
                return await self._days(entry, camera)
            day = date.fromisoformat(parts[1])
            if len(parts) == 2:
                return await self._kinds(entry, camera, day)
            return await self._events(entry, camera, day, EventKind(parts[2]))
        except ValueError as err:
            raise BrowseError(f"unknown Porchlight media: {item.identifier}") from err
        except PorchlightError as err:
            raise BrowseError(f"the Porchlight add-on did not answer: {err}") from err

    def _entry(self, entry_id: str, error: type[Exception]) -> PorchlightConfigEntry:
        entry = self.hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
            raise error(f"Porchlight entry {entry_id} is not loaded")
        return entry

    def _loaded_entries(self) -> list[PorchlightConfigEntry]:
        return self.hass.config_entries.async_loaded_entries(DOMAIN)

    def _folder(
        self, identifier: str, title: str, children_class: MediaClass = MediaClass.DIRECTORY
    ) -> BrowseMediaSource:
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=identifier,
            media_class=MediaClass.DIRECTORY,
            media_content_type=MediaType.VIDEO,
            title=title,
            can_play=False,
            can_expand=True,
            children_media_class=children_class,
        )

    def _root(self) -> BrowseMediaSource:
        root = BrowseMediaSource(
            domain=DOMAIN,
            identifier=None,
            media_class=MediaClass.APP,
            media_content_type=MediaType.VIDEO,
            title=self.name,
            can_play=False,
            can_expand=True,
            children_media_class=MediaClass.DIRECTORY,
        )
        entries = self._loaded_entries()
        root.children = [
            self._folder(
                f"{entry.entry_id}/{name}",
                camera["title"] or name
                if len(entries) == 1
                else f"{entry.title}: {camera['title'] or name}",
            )
            for entry in entries
            for name, camera in entry.runtime_data.cameras.items()
            if CAMERA_NAME_RE.match(name)
        ]
        return root

    async def _days(self, entry: PorchlightConfigEntry, camera: str) -> BrowseMediaSource:
        events = await fetch_events(entry.runtime_data.client, camera=camera)
        days = Counter(local_time(event["time"]).date() for event in events)
        folder = self._folder(
            f"{entry.entry_id}/{camera}", entry.runtime_data.cameras[camera]["title"] or camera
        )
        titles, today = await user_titles(self.hass), dt_util.now().date()
        folder.children = [
            self._folder(
                f"{entry.entry_id}/{camera}/{day.isoformat()}",
                # Short: a tile shows one line, and the count must not be cut off.
                f"{titles.day(day, today)} ({count})",
            )
            for day, count in sorted(days.items(), reverse=True)
        ]
        return folder

    async def _kinds(
        self, entry: PorchlightConfigEntry, camera: str, day: date
    ) -> BrowseMediaSource:
        start, end = day_bounds(day)
        events = await fetch_events(entry.runtime_data.client, camera=camera, start=start, end=end)
        kinds = Counter(event["kind"] for event in events)
        base = f"{entry.entry_id}/{camera}/{day.isoformat()}"
        folder = self._folder(base, (await user_titles(self.hass)).long_day(day))
        folder.children = [
            self._folder(f"{base}/{kind}", f"{title} ({kinds[kind]})", MediaClass.VIDEO)
            for kind, title in KIND_TITLES.items()
            if kinds[kind]
        ]
        return folder

    async def _events(
        self, entry: PorchlightConfigEntry, camera: str, day: date, kind: EventKind
    ) -> BrowseMediaSource:
        start, end = day_bounds(day)
        events = await fetch_events(
            entry.runtime_data.client, camera=camera, kind=kind, start=start, end=end
        )
        titles = await user_titles(self.hass)
        folder = self._folder(
            f"{entry.entry_id}/{camera}/{day.isoformat()}/{kind}",
            f"{KIND_TITLES[kind]}, {titles.long_day(day)}",
            MediaClass.VIDEO,
        )
        folder.children = [
            leaf
            for event in events
            if (leaf := self._leaf(entry.entry_id, event, titles)) is not None
        ]
        return folder

    def _leaf(self, entry_id: str, event: EventRecord, titles: Titles) -> BrowseMediaSource | None:
        """A clip (with its snapshot as thumbnail) or, without a clip, the snapshot.

        A clip still recording is marked so; it plays already (what is recorded so far).
        """
        title = titles.time(local_time(event["time"]))
        if event.get("clip_state") == ClipState.RECORDING:
            title = f"{title} · {titles.recording}"
        thumbnail = snapshot_url(entry_id, event["id"]) if event.get("snapshot") else None
        if clip_id := event.get("clip_id"):
            item, media_class, content_type = f"{CLIP}{clip_id}", MediaClass.VIDEO, "video/mp4"
        elif thumbnail is not None:
            item, media_class, content_type = (
                f"{SNAPSHOT}{event['id']}",
                MediaClass.IMAGE,
                "image/jpeg",
            )
        else:
            return None  # nothing recorded for it (recording off, or footage deleted)
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=f"{entry_id}/{item}",
            media_class=media_class,
            media_content_type=content_type,
            title=title,
            can_play=True,
            can_expand=False,
            thumbnail=thumbnail,
        )
