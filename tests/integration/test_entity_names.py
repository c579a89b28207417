"""Every entity of a device can be told apart: by its name, and by its icon.

Written over all entities (every platform, every zone), so a new entity that repeats a
name or borrows another kind's icon fails here.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.icon import async_get_icons

from custom_components.porchlight.const import DOMAIN

from .conftest import setup_integration

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from .fake_addon import FakeAddon


def _icon_set(icons: dict[str, object] | None) -> set[str]:
    """Every icon an `icons.json` entry can show: its default and its per-state ones."""
    if not icons:
        return set()
    states = icons.get("state", {})
    assert isinstance(states, dict)
    return {str(icons["default"]), *map(str, states.values())}


async def entity_icons(hass: HomeAssistant, entry: er.RegistryEntry) -> set[str]:
    """The icons Home Assistant's frontend picks for an entity, in its order: the entity's
    own icon, the integration's icon for its translation key, the domain's for its device
    class, the domain's default."""
    if entry.icon or entry.original_icon:
        return {str(entry.icon or entry.original_icon)}
    if entry.translation_key is not None:
        ours = await async_get_icons(hass, "entity", [DOMAIN])
        platform_icons = ours[DOMAIN].get(entry.domain, {})
        if found := _icon_set(platform_icons.get(entry.translation_key)):
            return found
    component = (await async_get_icons(hass, "entity_component", [entry.domain]))[entry.domain]
    device_class = entry.device_class or entry.original_device_class
    return _icon_set(component.get(device_class or "_")) or _icon_set(component["_"])


async def test_no_two_entities_of_a_device_look_alike(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    fake_addon.cameras["front_door"]["zones"] = [
        {"name": "doorstep", "occupied": False},
        {"name": "path", "occupied": False},
    ]
    await setup_integration(hass, mock_config_entry)
    entries = er.async_entries_for_config_entry(entity_registry, mock_config_entry.entry_id)
    # The entities that are off by default are still listed in History and the device page.
    for entry in entries:
        if entry.disabled_by is not None:
            entity_registry.async_update_entity(entry.entity_id, disabled_by=None)
    await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    by_device: dict[str | None, list[er.RegistryEntry]] = defaultdict(list)
    for entry in er.async_entries_for_config_entry(entity_registry, mock_config_entry.entry_id):
        by_device[entry.device_id].append(entry)
    assert len(by_device) == 2  # the camera and the add-on
    for entries in by_device.values():
        names: dict[str, str] = {}
        for entry in entries:
            state = hass.states.get(entry.entity_id)
            assert state is not None, entry.entity_id
            # The name as History and the logbook show it (device name + entity name).
            name = state.name.casefold()
            assert name not in names, f"{entry.entity_id} and {names[name]} are both {state.name}"
            names[name] = entry.entity_id
        # Instances of one kind (the zones) share icons; different kinds never do.
        kinds: dict[tuple[str, str | None], set[str]] = {}
        for entry in entries:
            kind = (entry.domain, entry.translation_key or entry.original_device_class)
            kinds.setdefault(kind, await entity_icons(hass, entry))
        seen: dict[str, tuple[str, str | None]] = {}
        for kind, icons in kinds.items():
            assert icons, kind
            for icon in icons:
                assert icon not in seen, f"{kind} and {seen[icon]} both show {icon}"
                seen[icon] = kind


async def test_renamed_entities_keep_their_ids(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """An install from before the renames keeps its entity ids (same unique ids)."""
    mock_config_entry.add_to_hass(hass)
    old = entity_registry.async_get_or_create(
        "event",
        DOMAIN,
        f"{fake_addon.instance_id}_front_door_motion_event",
        suggested_object_id="front_door_motion",
        config_entry=mock_config_entry,
    )
    await setup_integration(hass, mock_config_entry)
    state = hass.states.get(old.entity_id)
    assert state is not None
    assert state.name == "Front door Motion event"
    assert len(hass.states.async_entity_ids("event")) == 2  # no duplicate added
