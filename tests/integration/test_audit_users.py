"""Changes made from Home Assistant name the user who made them (protocol 1.2 `user`):
switches, buttons, numbers and actions, against the fake add-on; never to a 1.1 add-on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.core import Context
import pytest

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.pyporchlight.protocol import (
    AUDITED_COMMANDS,
    USER_ARG,
    Command,
)

from .conftest import wait_for_state
from .fake_addon import BASE_TIME, FakeAddon

if TYPE_CHECKING:
    from homeassistant.auth.models import User
    from homeassistant.core import HomeAssistant

PRIVACY = "switch.front_door_privacy_mode"
RING = "button.front_door_test_ring"
TAKE_SNAPSHOT = "button.front_door_take_snapshot"
ROTATE = "button.porchlight_rotate_stream_credential"


async def act_as(hass: HomeAssistant, addon: FakeAddon, user: User | None) -> None:
    """Every kind of change, each by `user` (None: an automation, which has no user)."""
    context = Context(user_id=None if user is None else user.id)

    async def call(domain: str, service: str, **data: Any) -> None:
        await hass.services.async_call(domain, service, data, blocking=True, context=context)

    clip_id = addon.add_recording("ring", BASE_TIME, clip=b"footage")["clip_id"]
    await call("switch", "turn_on", entity_id=PRIVACY)
    await call("switch", "turn_off", entity_id=PRIVACY)
    await call(DOMAIN, "protect_clip", clip_id=clip_id)
    await call(DOMAIN, "unprotect_clip", clip_id=clip_id)
    await call(DOMAIN, "record_clip", seconds=5)
    await call(DOMAIN, "delete_clips", clip_ids=[clip_id])
    await call("button", "press", entity_id=RING)
    await call("button", "press", entity_id=TAKE_SNAPSHOT)
    await call("button", "press", entity_id=ROTATE)


COMMANDS = [
    Command.SET_PRIVACY_MODE,
    Command.PROTECT_CLIP,
    Command.RECORD_CLIP,
    Command.DELETE_CLIPS,
    Command.RING,
    Command.TAKE_SNAPSHOT,
    Command.ROTATE_STREAM_CREDENTIAL,
]


@pytest.mark.parametrize(
    ("loaded_at_minor", "named"), [(2, True), (1, False)], indirect=["loaded_at_minor"]
)
async def test_each_change_names_the_user_who_made_it(
    hass: HomeAssistant, loaded_at_minor: FakeAddon, hass_admin_user: User, named: bool
) -> None:
    # A 1.1 add-on refuses an unknown argument: it must not be sent one.
    fake_addon = loaded_at_minor
    await wait_for_state(hass, lambda: fake_addon.subscriber_count == 1)
    await act_as(hass, fake_addon, hass_admin_user)
    by_user = {command: fake_addon.sent(command) for command in COMMANDS}
    fake_addon.commands.clear()
    await act_as(hass, fake_addon, None)  # an automation: nobody to name
    by_automation = {command: fake_addon.sent(command) for command in COMMANDS}
    for command in COMMANDS:
        assert by_user[command], command
        users = {args.get(USER_ARG) for args in by_user[command]}
        assert users == ({hass_admin_user.name} if named else {None}), (command, users)
        assert all(USER_ARG not in args for args in by_automation[command]), command
    assert len(by_user[Command.SET_PRIVACY_MODE]) == len(by_user[Command.PROTECT_CLIP]) == 2
    audited = [c for c in fake_addon.commands if c["command"] in AUDITED_COMMANDS]
    assert {c["command"] for c in audited} == set(COMMANDS)


async def test_a_number_set_by_a_user_names_them(
    hass: HomeAssistant, loaded: FakeAddon, hass_admin_user: User
) -> None:
    entity_id = next(
        s.entity_id for s in hass.states.async_all("number") if "threshold" in s.entity_id
    )
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": entity_id, "value": 40},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    (args,) = loaded.sent(Command.SET_MOTION_SETTINGS)
    assert args[USER_ARG] == hass_admin_user.name
