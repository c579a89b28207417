"""Media browser titles in the user's language: days, times and the repeated DST hour.

Home Assistant formats times in the browser, with the profile's language and time format
(`language`, `12`, `24`, `system`). The media browser's titles are made here instead, so
they follow the same settings: the profile the frontend saved for the user who browses
(frontend user data `language`), else Home Assistant's language. Babel (CLDR) knows each
language's patterns: 12-hour for `en`, 24-hour for `de` and `en-GB`.

Babel reads its CLDR data files on first use of a locale, so a locale is loaded once,
in the executor (`async_locale`), never in the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import logging
from typing import TYPE_CHECKING, Final

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time, get_timezone_gmt
from homeassistant.components.frontend.storage import async_user_store
from homeassistant.components.websocket_api.connection import current_connection
from homeassistant.helpers import translation

from .const import DOMAIN

if TYPE_CHECKING:
    from datetime import date

    from homeassistant.auth.models import User
    from homeassistant.core import HomeAssistant

_LOGGER = logging.getLogger(__name__)
FALLBACK: Final = "en"
PROFILE_KEY: Final = "language"
"""The frontend's user data key of a profile's locale settings."""
LOCALES_CACHED: Final = 32
"""Languages whose Babel locale is kept loaded (a household uses one or two)."""
_LOADED: dict[str | None, Locale] = {}
RECORDING_KEY: Final = f"component.{DOMAIN}.common.media_recording"
"""The marker of a clip still recording (`Recording…`), in the translations."""


class TimeFormat(StrEnum):
    """The profile's time format, as the frontend stores it."""

    LANGUAGE = "language"
    SYSTEM = "system"
    """The browser's: unknown here, so the language's."""
    AM_PM = "12"
    TWENTY_FOUR = "24"


def parse_locale(language: str | None) -> Locale:
    """Babel's locale of a Home Assistant language tag (`en`, `en-GB`, `zh-Hans`).

    An unknown tag falls back to its language, then to English.
    """
    for tag in filter(None, (language, (language or "").split("-")[0])):
        try:
            return Locale.parse(tag, sep="-")
        except ValueError, UnknownLocaleError:
            continue
    return Locale.parse(FALLBACK)


def load_locale(language: str | None) -> Locale:
    """`parse_locale(language)` with all the data the titles use read: blocks (file I/O).

    Babel reads its data files lazily (the locale's and its parents', global data), so the
    titles are formatted once here, which reads whatever they need.
    """
    locale = parse_locale(language)
    titles = Titles(locale, "")
    now = datetime.now(UTC)
    for time_format in TimeFormat:
        replace(titles, time_format=time_format).time(now)
    get_timezone_gmt(now, "long", locale=locale)  # the repeated DST hour's offset
    titles.day(now.date(), now.date())
    titles.day(now.date(), (now + timedelta(days=366)).date())
    titles.long_day(now.date())
    return locale


async def async_locale(hass: HomeAssistant, language: str | None) -> Locale:
    """`load_locale(language)`, run in the executor the first time a language is seen."""
    cached = _LOADED.get(language)
    if cached is None:
        cached = await hass.async_add_executor_job(load_locale, language)
        if len(_LOADED) >= LOCALES_CACHED:
            _LOADED.clear()
        _LOADED[language] = cached
    return cached


def is_ambiguous(moment: datetime) -> bool:
    """True when the local wall time occurs twice (the hour repeated when DST ends)."""
    return moment.replace(fold=1 - moment.fold).utcoffset() != moment.utcoffset()


@dataclass(frozen=True, slots=True)
class Titles:
    """How one user reads dates and times."""

    locale: Locale
    recording: str
    """The marker of a clip still recording, in the user's language (else English)."""
    time_format: TimeFormat = TimeFormat.LANGUAGE

    def time(self, moment: datetime) -> str:
        """An event's local time with seconds: `5:00:53 PM`, `17:00:53`.

        In the hour repeated when DST ends, the UTC offset follows (`2:30:00 AM GMT+02:00`),
        so the two 2:30s can be told apart.
        """
        if self.time_format is TimeFormat.AM_PM:
            text = format_skeleton("hms", moment, locale=self.locale)
        elif self.time_format is TimeFormat.TWENTY_FOUR:
            text = format_skeleton("Hms", moment, locale=self.locale)
        else:
            text = format_time(moment, "medium", locale=self.locale)
        if is_ambiguous(moment):
            text += " " + get_timezone_gmt(moment, "long", locale=self.locale)
        return text

    def day(self, day: date, today: date) -> str:
        """A day for a tile, short enough for one line with its count.

        This year's with the weekday (`Mon, 11/30`, `Mo., 30.11.`), older ones with the
        year instead (`9/30/2025`, `30.9.2025`).
        """
        skeleton = "MEd" if day.year == today.year else "yMd"
        return format_skeleton(skeleton, day, locale=self.locale)

    def long_day(self, day: date) -> str:
        """A day in full for a folder's heading (`Sun, Oct 26, 2025`)."""
        return format_skeleton("yMMMEd", day, locale=self.locale)


def _current_user() -> User | None:
    """The user of the websocket command being handled (the frontend browses over one)."""
    connection = current_connection.get()
    return None if connection is None else connection.user


async def user_titles(hass: HomeAssistant) -> Titles:
    """The titles for the user browsing now (their profile), else Home Assistant's language."""
    language: str | None = hass.config.language
    time_format = TimeFormat.LANGUAGE
    user = _current_user()
    if user is not None:
        store = await async_user_store(hass, user.id)
        profile = store.data.get(PROFILE_KEY)
        if isinstance(profile, dict):
            if isinstance(chosen := profile.get("language"), str) and chosen:
                language = chosen
            try:
                time_format = TimeFormat(profile.get("time_format", TimeFormat.LANGUAGE))
            except ValueError:
                _LOGGER.debug("unknown time format in %s's profile", user.id)
    locale = await async_locale(hass, language)
    # Home Assistant's translations fall back to English for a language it lacks.
    words = await translation.async_get_translations(
        hass, str(locale).replace("_", "-"), "common", [DOMAIN]
    )
    return Titles(locale, words[RECORDING_KEY], time_format)
