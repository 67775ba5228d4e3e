"""``decode_dialog`` normalises every documented wire form and refuses the rest by path."""

from __future__ import annotations

import copy
import gc
import json
import pickle
import weakref
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitrix_dialog import (
    ChatType,
    Dialog,
    LastMessageViews,
    MessageType,
    ModelDecodeError,
    PublicLink,
    Reader,
    Restrictions,
    Role,
    Viewer,
    decode_dialog,
    dialog_to_json,
)

IM = "im.dialog.get"
V2 = "imbot.v2.Chat.get"


def snake(**fields: Any) -> Dialog:
    return decode_dialog({"id": 1, **fields}, method=IM)


def camel(**fields: Any) -> Dialog:
    return decode_dialog({"chat": {"id": 1, **fields}}, method=V2)


def test_decoded_models_are_genuine_frozen_values() -> None:
    dialog = snake(restrictions={"send": True}, readed_list=[{"user_id": 1}])
    assert type(dialog) is Dialog
    assert type(dialog.restrictions) is Restrictions
    expected = Dialog(id=1, restrictions=Restrictions(send=True), readers=(Reader(user_id=1),))
    assert dialog == expected
    assert repr(dialog) == repr(expected)
    assert pickle.loads(pickle.dumps(dialog)) == dialog
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        dialog.name = "renamed"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        dialog.restrictions.send = False  # type: ignore[misc]
    assert attrs.evolve(dialog, name="x").name == "x"


def test_decoded_models_are_slotted_and_can_be_weakly_referenced() -> None:
    dialog = snake(restrictions={"send": True}, readed_list=[{"user_id": 1}])
    assert not hasattr(dialog, "__dict__")  # slotted: no per-instance dict
    assert dialog.restrictions is not None
    assert dialog.readers is not None
    cache: weakref.WeakValueDictionary[int, Dialog] = weakref.WeakValueDictionary()
    cache[dialog.id] = dialog
    assert cache[1] is dialog
    assert weakref.ref(dialog.restrictions)() is dialog.restrictions
    assert weakref.ref(dialog.readers[0])() is dialog.readers[0]
    copied = pickle.loads(pickle.dumps(dialog))
    assert copied == dialog
    assert weakref.ref(copied)() is copied
    del cache[1]
    dropped = weakref.ref(snake())
    gc.collect()
    assert dropped() is None  # the reference does not keep the dialog alive


def test_only_id_is_required_and_everything_else_reads_as_unset() -> None:
    dialog = snake()
    assert dialog.id == 1
    assert dialog.name is None
    assert dialog.readers is None
    assert dialog.restrictions is None
    assert dialog.extra == {}


@pytest.mark.parametrize("value", ["21191", 21191])
def test_ids_may_arrive_as_numeric_strings(value: object) -> None:
    dialog = decode_dialog({"id": value, "owner": "2", "manager_list": ["5", 6]}, method=IM)
    assert dialog.id == 21191
    assert dialog.owner == 2
    assert dialog.manager_ids == (5, 6)


@pytest.mark.parametrize(("wire", "expected"), [("-1", -1), ("+5", 5), ("007", 7)])
def test_numeric_strings_may_carry_a_sign(wire: str, expected: int) -> None:
    assert decode_dialog({"id": 1, "owner": wire}, method=IM).owner == expected


@pytest.mark.parametrize("wire", ["\u00b2", "\u0661", " 5", "5 ", "1_000", "5.0", "--1"])
def test_only_ascii_decimal_strings_are_numbers(wire: str) -> None:
    # int() reads some of these ("\u0661" is Arabic-Indic one, " 5" has a space); the wire
    # never means them as numbers, so they are refused, not guessed at
    with pytest.raises(ModelDecodeError) as caught:
        decode_dialog({"id": 1, "owner": wire}, method=IM)
    assert caught.value.path == "owner"
    assert decode_dialog({"id": 1, "background_id": wire}, method=IM).background_id == wire


def test_flat_title_is_the_name_and_a_title_beside_a_name_is_kept() -> None:
    assert snake(title="Mint chat No.3").name == "Mint chat No.3"
    both = snake(name="New", title="Old")
    assert both.name == "New"
    assert both.extra == {"title": "Old"}


@pytest.mark.parametrize("value", ["", None])
def test_empty_strings_and_nulls_are_unset(value: object) -> None:
    dialog = snake(
        avatar=value, description=value, entity_type=value, public=value, date_create=value
    )
    assert dialog.avatar is None
    assert dialog.description is None
    assert dialog.entity_type is None
    assert dialog.public is None
    assert dialog.date_create is None


def test_dates_are_timezone_aware_in_the_portal_offset() -> None:
    dialog = snake(
        date_create="2017-10-14T12:15:32+02:00",
        readed_list=[{"user_id": 1, "date": "2024-06-15T16:48:49+00:00"}, {"date": None}],
    )
    assert dialog.date_create == datetime(
        2017, 10, 14, 12, 15, 32, tzinfo=timezone(timedelta(hours=2))
    )
    assert dialog.date_create is not None
    assert dialog.date_create.utcoffset() == timedelta(hours=2)
    assert dialog.readers is not None
    assert dialog.readers[0].date == datetime(2024, 6, 15, 16, 48, 49, tzinfo=UTC)
    assert dialog.readers[1].date is None


@pytest.mark.parametrize(
    ("wire", "expected"),
    [(True, True), (False, False), ("Y", True), ("N", False), ("1", True), ("0", False)],
)
def test_flags_accept_booleans_and_their_string_forms(wire: object, expected: bool) -> None:
    assert snake(text_field_enabled=wire).text_field_enabled is expected
    assert camel(textFieldEnabled=wire).text_field_enabled is expected


def test_documented_codes_are_enums_and_new_ones_stay_strings() -> None:
    known = snake(type="lines", message_type="L", role="owner")
    assert known.type is ChatType.OPEN_LINES
    assert known.message_type is MessageType.OPEN_LINE
    assert known.role is Role.OWNER
    new = snake(type="videoconf", message_type="X", role="auditor")
    assert new.type == "videoconf"
    assert not isinstance(new.type, ChatType)
    assert new.message_type == "X"
    assert new.role == "auditor"
    assert camel(type="openChannel").type is ChatType.OPEN_CHANNEL


@pytest.mark.parametrize(
    "views",
    [
        {"messageId": 789, "firstViewers": [{"userId": 1, "userName": "J", "date": None}]},
        json.dumps({"messageId": 789, "firstViewers": [{"userId": 1, "userName": "J"}]}),
    ],
)
def test_v2_last_message_views_as_object_or_json_string(views: object) -> None:
    dialog = camel(lastMessageViews=views)
    assert dialog.last_message_views is not None
    assert dialog.last_message_views.message_id == 789
    assert dialog.last_message_views.first_viewers == (Viewer(user_id=1, user_name="J"),)


@pytest.mark.parametrize("views", [[], {}, "{}", "[]", "", None])
def test_empty_last_message_views_in_any_form_is_unset(views: object) -> None:
    assert camel(lastMessageViews=views).last_message_views is None
    assert snake(last_message_views=views).last_message_views is None


def test_first_viewers_may_be_bare_user_ids() -> None:
    dialog = snake(last_message_views={"message_id": 3, "first_viewers": [7, "8"]})
    assert dialog.last_message_views == LastMessageViews(
        message_id=3, first_viewers=(Viewer(user_id=7), Viewer(user_id=8))
    )


def test_public_is_a_link_object_or_unset() -> None:
    link = {"code": "abc", "link": "https://p/online/abc"}
    assert snake(public=link).public == PublicLink(code="abc", link="https://p/online/abc")
    assert snake(public="").public is None


@pytest.mark.parametrize(("wire", "expected"), [(5, 5), ("5", 5), ("azure", "azure"), (None, None)])
def test_background_is_an_id_or_a_name(wire: object, expected: object) -> None:
    assert snake(background_id=wire).background_id == expected


def test_php_objects_for_id_lists() -> None:
    dialog = snake(mute_list={"7": True, "9": False}, manager_list={"1": 27, "3": 30})
    assert dialog.muted_user_ids == (7,)
    assert dialog.manager_ids == (27, 30)


def test_v2_keeps_the_other_result_keys() -> None:
    dialog = decode_dialog({"chat": {"id": 5}, "users": [{"id": 456}]}, method=V2)
    assert dialog.result_extra == {"users": [{"id": 456}]}
    assert decode_dialog({"chat": {"id": 5}}, method="imbot.v2.chat.get").id == 5


def test_decoding_leaves_the_payload_untouched() -> None:
    payload = {"id": "1", "title": "x", "unknown": [1], "readed_list": {"3": {"user_id": "3"}}}
    before = copy.deepcopy(payload)
    decode_dialog(payload, method=IM)
    assert payload == before


@pytest.mark.parametrize(
    ("payload", "method", "path"),
    [
        ({}, IM, "id"),
        ({"id": "x"}, IM, "id"),
        ({"id": True}, IM, "id"),
        ({"id": 1, "owner": {"a": 1}}, IM, "owner"),
        ({"id": 1, "title": 5.5}, IM, "title"),
        ({"id": 1, "extranet": "maybe"}, IM, "extranet"),
        ({"id": 1, "date_create": "2017-10-14T12:15:32"}, IM, "date_create"),
        ({"id": 1, "date_create": "yesterday"}, IM, "date_create"),
        ({"id": 1, "restrictions": [1]}, IM, "restrictions"),
        ({"id": 1, "restrictions": {"send": "often"}}, IM, "restrictions.send"),
        ({"id": 1, "readed_list": [{"user_id": 1}, {"date": 5}]}, IM, "readed_list[1].date"),
        ({"id": 1, "readed_list": ["x"]}, IM, "readed_list[0]"),
        ({"id": 1, "manager_list": [1, "two"]}, IM, "manager_list[1]"),
        ({"id": 1, "type": 3}, IM, "type"),
        ({"id": 1, "public": "yes"}, IM, "public"),
        ({"id": 1, "last_message_views": "{oops"}, IM, "last_message_views"),
        (
            {"id": 1, "last_message_views": {"first_viewers": [{"user_id": "u"}]}},
            IM,
            "last_message_views.first_viewers[0].user_id",
        ),
        ([], IM, ""),
        ("chat", IM, ""),
        ({"id": 1}, V2, "chat"),
        ({"chat": []}, V2, "chat"),
        ({"chat": {}}, V2, "chat.id"),
        ({"chat": {"id": 1, "dateCreate": 0}}, V2, "chat.dateCreate"),
        (
            {"chat": {"id": 1, "lastMessageViews": '{"firstViewers": [{"date": "no"}]}'}},
            V2,
            "chat.lastMessageViews.firstViewers[0].date",
        ),
        ({"chat": {"id": 1, "permissions": {"canPost": 1}}}, V2, "chat.permissions.canPost"),
    ],
)
def test_a_payload_that_does_not_fit_names_the_field(
    payload: object, method: str, path: str
) -> None:
    body = json.dumps({"result": payload}).encode()
    with pytest.raises(ModelDecodeError) as caught:
        decode_dialog(payload, method=method, body=body)
    error = caught.value
    assert error.path == path
    assert error.method == method
    assert error.payload is payload
    assert error.body == body
    assert error.code == "MODEL_DECODE_ERROR"
    assert method in str(error)


def test_dialog_to_json_is_json_ready_and_keeps_extra() -> None:
    dialog = snake(
        type="crm",
        role="surveyor",
        date_create="2026-02-25T16:50:58+01:00",
        manager_list=[503],
        readed_list=[{"user_id": 103, "date": None, "avatar": ""}],
        last_message_views={"message_id": 1, "first_viewers": []},
        disappearing_time=0,
    )
    data = dialog_to_json(dialog)
    assert json.loads(json.dumps(data)) == data
    assert data["type"] == "crm"
    assert data["role"] == "surveyor"
    assert data["date_create"] == "2026-02-25T16:50:58+01:00"
    assert data["manager_ids"] == [503]
    assert data["readers"] == [
        {
            "user_id": 103,
            "user_name": None,
            "message_id": None,
            "date": None,
            "extra": {"avatar": ""},
        }
    ]
    assert data["last_message_views"]["first_viewers"] == []
    assert data["extra"] == {"disappearing_time": 0}
    assert data["result_extra"] == {}


# --- property: arbitrary JSON objects decode or raise ModelDecodeError, never anything else

_WIRE_KEYS = [
    "id", "title", "name", "owner", "type", "role", "message_type", "date_create", "public",
    "mute_list", "manager_list", "readed_list", "last_message_views", "restrictions",
    "permissions", "entity_link", "background_id", "text_field_enabled", "extranet",
    "description", "dialog_id", "first_viewers", "user_id", "date", "send", "path",
    "dialogId", "dateCreate", "lastMessageViews", "textFieldEnabled", "muteList",
    "managerList", "entityLink", "firstViewers", "messageId", "userId", "canPost", "chat",
    "users", "\x00extra",
]  # fmt: skip

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "0", "12", "Y", "N", "{}", "[]", "2026-02-24T13:19:39+02:00", "chat"])
)
_keys = st.sampled_from(_WIRE_KEYS) | st.text(max_size=8)
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=6),
    max_leaves=25,
)
json_objects = st.dictionaries(_keys, json_values, max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=json_objects | json_values, method=st.sampled_from([IM, V2]))
def test_any_json_decodes_or_raises_model_decode_error(payload: object, method: str) -> None:
    before = copy.deepcopy(payload)
    outcome: Dialog | ModelDecodeError
    try:
        outcome = decode_dialog(payload, method=method)
    except ModelDecodeError as error:
        outcome = error
    if isinstance(outcome, ModelDecodeError):
        assert outcome.payload is payload
        assert outcome.method == method
    else:
        assert isinstance(outcome.id, int)
        json.dumps(dialog_to_json(outcome))
    assert payload == before


@settings(max_examples=150, deadline=None)
@given(chat=json_objects, siblings=st.dictionaries(st.text(max_size=5), json_values, max_size=3))
def test_any_v2_chat_object_decodes_or_raises_model_decode_error(
    chat: dict[str, Any], siblings: dict[str, Any]
) -> None:
    payload = {**siblings, "chat": {"id": 1, **chat}}
    path = None
    try:
        decode_dialog(payload, method=V2)
    except ModelDecodeError as error:
        path = error.path
    assert path is None or path.startswith("chat")
