"""Properties of the event-form parsers: any post gives a typed event or a clear refusal.

An event endpoint is open to the internet, so whatever body arrives, the parsers
(``parse_event_auth``, ``EventAuth.from_auth_block``, ``parse_event``) must answer with a
typed value or a ``ValueError`` naming what is wrong, and the aiohttp endpoint with
200, 400 or 403, never an unexpected exception (a 500). Bodies the fake portal builds
(``portal.events``) read back as what they describe, whatever text they carry.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitrix_dialog import EventAuth, parse_event_auth
from bitrix_dialog.aiohttp import (
    AppInstallEvent,
    BitrixEvent,
    BitrixEvents,
    BotMessageEvent,
    RawEvent,
    parse_event,
    setup,
)
from bitrix_dialog.testing import FakePortal, http_build_query, parse_str

from .aiohttp_kit import EVENTS, post, served
from .test_aiohttp_events import GROUP_MESSAGE

T = TypeVar("T")
PIN = "pinned-application-token"
MEMBER = "member-1"

_CODES = st.sampled_from(
    [
        "ONIMBOTMESSAGEADD",
        "onimbotjoinchat",
        "ONIMBOTDELETE",
        "ONAPPINSTALL",
        "ONAPPUPDATE",
        "ONAPPUNINSTALL",
        "ONAPPSUNINSTALL",
        "ONCRMDEALUPDATE",
        "",
    ]
)
# Values the portal's forms hold, and the ones a forger or a broken proxy might send.
_WORDS = (
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "1",
            "-1",
            "Y",
            "n",
            "1.5",
            "1e400",
            "-1e400",
            "inf",
            "nan",
            "9" * 25,
            "9" * 5000,
            "253402300800",
            "chat5",
            "C",
            "X",
            "https://a.example/rest/",
            "a.example:8443",
            "[::1]",
            "http://evil/",
            "%",
        ]
    )
    | st.integers(min_value=-(2**70), max_value=2**70).map(str)
    | st.text(max_size=6)
)
_KEYS = st.sampled_from(
    [
        "PARAMS",
        "BOT",
        "USER",
        "AUTH",
        "567",
        "ID",
        "BOT_ID",
        "BOT_CODE",
        "MESSAGE",
        "MESSAGE_ID",
        "DIALOG_ID",
        "CHAT_ID",
        "TO_CHAT_ID",
        "CHAT_TYPE",
        "MESSAGE_TYPE",
        "FROM_USER_ID",
        "SYSTEM",
        "MENTIONED_LIST",
        "USER_ID",
        "ACCESS_HISTORY",
        "IS_BOT",
        "VERSION",
        "ACTIVE",
        "CLEAN",
        "access_token",
        "refresh_token",
        "expires",
        "expires_in",
        "user_id",
        "member_id",
        "client_endpoint",
        "application_token",
    ]
) | st.text(min_size=1, max_size=4)
_TREE = st.recursive(_WORDS, lambda inner: st.dictionaries(_KEYS, inner, max_size=5), max_leaves=24)
_AUTH = st.fixed_dictionaries(
    {},
    optional={
        "access_token": _WORDS,
        "refresh_token": _WORDS,
        "expires": _WORDS,
        "expires_in": _WORDS,
        "user_id": _WORDS,
        "member_id": st.just(MEMBER) | _WORDS,
        "client_endpoint": _WORDS,
        "server_endpoint": _WORDS,
        "domain": _WORDS,
        "scope": _WORDS,
        "application_token": st.just(PIN) | _WORDS,
    },
)
_FORMS = st.fixed_dictionaries(
    {"event": _CODES, "auth": _AUTH | _TREE},
    optional={"data": _TREE, "ts": _WORDS, "event_handler_id": _WORDS},
)
# Placement posts: AUTH_ID and friends in the body, DOMAIN and PROTOCOL in the query.
_PLACEMENTS = st.fixed_dictionaries(
    {"AUTH_ID": _WORDS},
    optional={
        "AUTH_EXPIRES": _WORDS,
        "REFRESH_ID": _WORDS,
        "APPLICATION_TOKEN": _WORDS,
        "member_id": _WORDS,
        "DOMAIN": _WORDS,
        "PROTOCOL": _WORDS,
        "SERVER_ENDPOINT": _WORDS,
    },
)
_BODIES = _FORMS.map(http_build_query) | _PLACEMENTS.map(http_build_query) | st.text(max_size=40)
# Posts that pass the endpoint's token check, so their data reaches the typed parsers.
_VERIFIED = st.tuples(_FORMS, _AUTH).map(
    lambda pair: http_build_query(
        pair[0] | {"auth": pair[1] | {"member_id": MEMBER, "application_token": PIN}}
    )
)

_FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _attempt(make: Callable[[], T]) -> T | ValueError:
    """``make()``, or the ``ValueError`` it raised (any other exception propagates)."""
    try:
        return make()
    except ValueError as error:
        return error


def _read(body: str) -> BitrixEvent | EventAuth | ValueError:
    """What an app would get from ``body``: the typed event, only the auth, or the error."""
    try:
        auth = parse_event_auth(body, clock=lambda: 1_771_940_028.0)
    except ValueError as error:
        return error
    form = parse_str(body)
    if "event" not in form:
        return auth
    try:
        return parse_event(form, auth)
    except ValueError as error:
        return error


@_FUZZ
@given(body=_BODIES | _VERIFIED)
def test_any_post_is_a_typed_event_or_a_value_error(body: str) -> None:
    outcome = _read(body)
    if isinstance(outcome, ValueError):
        assert str(outcome)
    elif isinstance(outcome, BitrixEvent):
        assert outcome.event == str(parse_str(body)["event"]).upper()
        assert outcome.event
        assert isinstance(outcome.data, dict)
    else:
        assert isinstance(outcome, EventAuth)
    # Whatever the auth, the event part alone is typed or refused with a ValueError.
    form = parse_str(body)
    event = _attempt(lambda: parse_event(form, EventAuth()))
    if isinstance(event, ValueError):
        assert str(event)
    else:
        assert event.event == str(form["event"]).upper()
    # The raw bytes, as a web framework hands them over, read the same.
    assert _auth_of(body.encode()) == _auth_of(body)


def _auth_of(body: str | bytes) -> EventAuth | str:
    try:
        return parse_event_auth(body, clock=lambda: 0.0)
    except ValueError as error:
        return str(error)


@_FUZZ
@given(block=_AUTH | _TREE)
def test_any_auth_block_is_an_event_auth_or_a_value_error(block: Any) -> None:
    if not isinstance(block, dict):
        block = {"access_token": block}
    auth = _attempt(lambda: EventAuth.from_auth_block(block, clock=lambda: 0.0))
    if isinstance(auth, ValueError):
        assert str(auth).startswith("malformed auth block")
        return
    if auth.token is not None:
        assert auth.token.access_token == block["access_token"]
        assert auth.token.expires_at == auth.token.expires_at  # finite, never NaN


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies=st.lists(_VERIFIED | _BODIES, min_size=1, max_size=8))
def test_the_event_endpoint_answers_every_post_with_200_400_or_403(bodies: list[str]) -> None:
    events = BitrixEvents(application_tokens=PIN)
    seen: list[BitrixEvent] = []

    @events.fallback
    async def record(event: BitrixEvent, client: object, request: web.Request) -> None:
        seen.append(event)

    async def scenario() -> list[int]:
        portal = FakePortal()
        app = web.Application()
        setup(app, portal.webhook_url(), transport=portal.transport())
        events.add_route(app, EVENTS)
        statuses = []
        async with served(app) as client:
            for body in bodies:
                status, _ = await post(client, body.encode())
                statuses.append(status)
        return statuses

    statuses = asyncio.run(scenario())
    assert set(statuses) <= {200, 400, 403}, statuses
    assert len(seen) == statuses.count(200)
    for body, status in zip(bodies, statuses, strict=True):
        if status == 200:  # only a verified post reaches a handler
            auth = parse_str(body)["auth"]
            assert auth["application_token"] == PIN
            assert auth["member_id"]


# Every field the typed parsers read, as a path into the parsed form.
_FIELDS = [
    ("event",),
    ("event_handler_id",),
    ("ts",),
    ("data",),
    ("data", "PARAMS"),
    ("data", "PARAMS", "MESSAGE_ID"),
    ("data", "PARAMS", "MESSAGE"),
    ("data", "PARAMS", "DIALOG_ID"),
    ("data", "PARAMS", "TO_CHAT_ID"),
    ("data", "PARAMS", "CHAT_TYPE"),
    ("data", "PARAMS", "FROM_USER_ID"),
    ("data", "PARAMS", "SYSTEM"),
    ("data", "PARAMS", "MENTIONED_LIST"),
    ("data", "USER"),
    ("data", "USER", "ID"),
    ("data", "USER", "IS_BOT"),
    ("data", "BOT"),
    ("data", "BOT", "567"),
    ("data", "BOT", "567", "BOT_ID"),
    ("data", "BOT", "567", "AUTH"),
    ("data", "BOT", "567", "AUTH", "expires_in"),
    ("data", "BOT", "567", "AUTH", "user_id"),
    ("auth", "expires"),
    ("auth", "expires_in"),
    ("auth", "user_id"),
    ("auth", "access_token"),
]


@_FUZZ
@given(path=st.sampled_from(_FIELDS), value=_TREE)
def test_any_value_in_any_event_field_is_typed_or_refused_by_its_path(
    path: tuple[str, ...], value: Any
) -> None:
    form = parse_str(http_build_query(GROUP_MESSAGE))
    node = form
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = copy.deepcopy(value)
    auth = _attempt(lambda: EventAuth.from_auth_block(form["auth"], clock=lambda: 0.0))
    if isinstance(auth, ValueError):
        assert path[0] == "auth"
        assert str(auth).startswith("malformed auth block")
        return
    event = _attempt(lambda: parse_event(form, auth))
    if isinstance(event, ValueError):
        if path[0] == "data":  # the message names the wire path of what it refused
            where = "data" + "".join(f"[{key}]" for key in path[1:])
            assert where in str(event)
        return
    assert isinstance(event, BitrixEvent)


_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    message=_TEXT,
    chat_name=_TEXT.filter(str.strip),
    user_name=_TEXT.filter(lambda name: name == name.strip() and " " not in name and name),
    bot_id=st.integers(min_value=1, max_value=2**31),
    user_id=st.integers(min_value=1, max_value=2**31),
)
def test_a_portal_built_message_post_reads_back_as_it_was_built(
    message: str, chat_name: str, user_name: str, bot_id: int, user_id: int
) -> None:
    portal = FakePortal()
    app = portal.register_app()
    bot_id = bot_id if bot_id != user_id else bot_id + 1
    chat = portal.add_chat(name=chat_name, user_names={user_id: user_name})
    portal.add_bot(bot_id, name="Echo")
    body = portal.events.bot_message(
        bot_id, message, dialog_id=chat.dialog_id, from_user_id=user_id
    )
    event = _read(body.decode())
    assert isinstance(event, BotMessageEvent)
    assert event.auth.verify(app.application_token)
    assert event.member_id == portal.oauth.member_id
    assert event.message == message
    assert event.message_original == f"[USER={bot_id}]Echo[/USER] {message}"
    assert (event.bot_id, event.from_user_id, event.chat_id) == (bot_id, user_id, chat.id)
    assert event.dialog_id == chat.dialog_id
    assert event.chat_title == chat_name
    assert event.mentioned_ids == frozenset({bot_id})
    assert event.user is not None
    assert (event.user.id, event.user.first_name) == (user_id, user_name)
    assert event.bots[0].bot_id == bot_id
    assert event.bots[0].auth.token is not None
    assert event.auth.token is not None
    assert portal.oauth.member_id == event.auth.token.member_id


@settings(max_examples=30, deadline=None)
@given(version=_TEXT, language=_TEXT, user_id=st.integers(min_value=1, max_value=2**31))
def test_a_portal_built_install_post_reads_back_as_it_was_built(
    version: str, language: str, user_id: int
) -> None:
    portal = FakePortal()
    app = portal.register_app()
    body = portal.events.install(user_id=user_id, version=version, language=language)
    event = _read(body.decode())
    assert isinstance(event, AppInstallEvent)
    assert event.auth.verify(app.application_token)
    assert (event.version, event.language_id) == (version or None, language or None)
    assert (event.active, event.installed) == (True, True)
    assert event.auth.user_id == user_id
    assert event.auth.token is not None
    assert event.auth.token.refresh_token
    assert event.auth.token.client_endpoint == portal.client_endpoint()


def test_an_unknown_event_code_is_a_raw_event_keeping_its_data() -> None:
    form = {"event": "onCrmDealUpdate", "data": {"FIELDS": {"ID": "7"}}, "auth": {"member_id": "m"}}
    event = _read(http_build_query(form))
    assert isinstance(event, RawEvent)
    assert event.event == "ONCRMDEALUPDATE"
    assert event.data == {"FIELDS": {"ID": "7"}}
