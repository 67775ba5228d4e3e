"""Parsing the auth Bitrix24 posts to the app (events, placements) and checking it."""

from __future__ import annotations

import pytest

from bitrix_dialog import (
    Client,
    EventAuth,
    MemoryTokenStore,
    OAuthAuth,
    parse_event_auth,
    verify_application_token,
)
from bitrix_dialog.testing import FakePortal, http_build_query, parse_str

from .oauth_kit import START, ManualClock

# The ONAPPINSTALL post from EN api-reference/events/index.md, form-encoded as the
# portal sends it (application/x-www-form-urlencoded, PHP brackets, all strings).
ONAPPINSTALL = (
    "event=ONAPPINSTALL&data%5BVERSION%5D=1&data%5BLANGUAGE_ID%5D=de&ts=1466439714"
    "&auth%5Baccess_token%5D=s6p6eclrvim6da22ft9ch94ekreb52lv&auth%5Bexpires_in%5D=3600"
    "&auth%5Bscope%5D=entity%2Cim&auth%5Bdomain%5D=portal.bitrix24.com"
    "&auth%5Bserver_endpoint%5D=https%3A%2F%2Foauth.bitrix.info%2Frest%2F&auth%5Bstatus%5D=F"
    "&auth%5Bclient_endpoint%5D=https%3A%2F%2Fportal.bitrix24.com%2Frest%2F"
    "&auth%5Bmember_id%5D=a223c6b3710f85df22e9377d6c4f7553"
    "&auth%5Brefresh_token%5D=4s386p3q0tr8dy89xvmt96234v3dljg8"
    "&auth%5Bapplication_token%5D=51856fefc120afa4b628cc82d3935cce"
)
APPLICATION_TOKEN = "51856fefc120afa4b628cc82d3935cce"

# An outgoing webhook's post (EN local-integrations/local-webhooks.md): no tokens.
OUTGOING_WEBHOOK = (
    "event=ONCRMDEALUPDATE&data[FIELDS][ID]=662&ts=1484646000"
    "&auth[domain]=xxx.bitrix24.com&auth[client_endpoint]=https://xxx.bitrix24.com/rest/"
    "&auth[server_endpoint]=https://oauth.bitrix.info/rest/&auth[member_id]=xxx"
    "&auth[application_token]=xxx"
)

# A placement (EN api-reference/widgets/crm/... CRM_DEAL_LIST_TOOLBAR): DOMAIN and
# PROTOCOL in the query string, the rest in the body.
PLACEMENT_QUERY = (
    "DOMAIN=xxx.bitrix24.com&PROTOCOL=1&LANG=en&APP_SID=c75986789a2a58e22f445686334804e6"
)
PLACEMENT_BODY = (
    "AUTH_ID=4b2e7166007e9c94001e30ba00000001f0f107c93a5f28e7b04d61ca8f3e52d7&AUTH_EXPIRES=3600"
    "&REFRESH_ID=3a1d9966007e9c94001e30ba00000001f0f107d81b3e07f6a95c40db7e2f41c6"
    "&SERVER_ENDPOINT=https%3A%2F%2Foauth.bitrix.info%2Frest%2F"
    "&APPLICATION_TOKEN=ec1b2074a9d3f5c81b6e40d27a95cf38&APPLICATION_SCOPE=crm%2Cplacement"
    "&member_id=d897063e1ce7c5eb9f04b9751eef5915&status=L&PLACEMENT=CRM_DEAL_LIST_TOOLBAR"
    "&PLACEMENT_OPTIONS=%7B%22URI%22%3A%22%5C%2Fcrm%5C%2Fdeal%5C%2Flist%5C%2F%22%7D"
)


def test_an_install_event_yields_the_pair_and_its_application_token() -> None:
    auth = parse_event_auth(ONAPPINSTALL.encode(), clock=lambda: START)
    assert auth.member_id == "a223c6b3710f85df22e9377d6c4f7553"
    assert auth.domain == "portal.bitrix24.com"
    assert auth.client_endpoint == "https://portal.bitrix24.com/rest/"
    assert auth.server_endpoint == "https://oauth.bitrix.info/rest/"
    assert auth.scope == "entity,im"
    assert auth.status == "F"
    assert auth.verify(APPLICATION_TOKEN)
    assert not auth.verify("51856fefc120afa4b628cc82d3935ccf")
    token = auth.token
    assert token is not None
    assert token.access_token == "s6p6eclrvim6da22ft9ch94ekreb52lv"
    assert token.refresh_token == "4s386p3q0tr8dy89xvmt96234v3dljg8"
    assert token.expires_in == 3600
    assert token.expires_at == START + 3600
    assert token.member_id == auth.member_id
    assert token.scopes == {"entity", "im"}
    assert token.application_token == APPLICATION_TOKEN


def test_str_bytes_and_parsed_mappings_give_the_same_result() -> None:
    parsed = parse_str(ONAPPINSTALL)
    results = {
        parse_event_auth(body, clock=lambda: START)
        for body in (ONAPPINSTALL, ONAPPINSTALL.encode(), parsed)
    }
    assert len(results) == 1


def test_an_event_without_tokens_still_carries_what_verifies_it() -> None:
    auth = parse_event_auth(OUTGOING_WEBHOOK)
    assert auth.token is None
    assert auth.member_id == "xxx"
    assert auth.client_endpoint == "https://xxx.bitrix24.com/rest/"
    assert auth.verify("xxx")


def test_absolute_expires_and_user_id_are_read_when_sent() -> None:
    body = http_build_query(
        {
            "event": "ONCRMDEALADD",
            "auth": {
                "access_token": "4baf4f66006e1354",
                "refresh_token": "3b2e7766006e1354",
                "expires": "1716498251",
                "expires_in": "3600",
                "client_endpoint": "https://b24-playground.bitrix24.ru/rest/",
                "server_endpoint": "https://oauth.bitrix.info/rest/",
                "member_id": "010b6886ebc205e43ae65000ee00addb",
                "user_id": "16",
                "application_token": "f9ac5db5ad4adbdee13eb034207d8fbd",
            },
        }
    )
    auth = parse_event_auth(body, clock=lambda: START)
    assert auth.user_id == 16
    assert auth.token is not None
    assert auth.token.expires_at == 1716498251
    assert auth.token.user_id == 16


def test_a_placement_post_builds_the_endpoint_from_domain_and_protocol() -> None:
    auth = parse_event_auth(PLACEMENT_BODY, query=PLACEMENT_QUERY, clock=lambda: START)
    assert auth.client_endpoint == "https://xxx.bitrix24.com/rest/"
    assert auth.domain == "xxx.bitrix24.com"
    assert auth.scope == "crm,placement"
    assert auth.verify("ec1b2074a9d3f5c81b6e40d27a95cf38")
    token = auth.token
    assert token is not None
    assert token.access_token.startswith("4b2e7166")
    assert token.refresh_token is not None
    assert token.refresh_token.startswith("3a1d9966")
    assert token.expires_at == START + 3600
    assert token.server_endpoint == "https://oauth.bitrix.info/rest/"
    http = parse_event_auth(
        PLACEMENT_BODY, query=PLACEMENT_QUERY.replace("PROTOCOL=1", "PROTOCOL=0")
    )
    assert http.client_endpoint == "http://xxx.bitrix24.com/rest/"


def test_a_forged_domain_is_refused() -> None:
    forged = PLACEMENT_QUERY.replace("xxx.bitrix24.com", "evil.example%2F%40x")
    with pytest.raises(ValueError, match="DOMAIN"):
        parse_event_auth(PLACEMENT_BODY, query=forged)


def test_posts_without_bitrix_auth_are_refused() -> None:
    with pytest.raises(ValueError, match="no Bitrix24 auth"):
        parse_event_auth("event=ONCRMDEALADD&data[FIELDS][ID]=1")
    with pytest.raises(ValueError, match="lacks 'client_endpoint'"):
        parse_event_auth("auth[access_token]=abc&auth[member_id]=m1")
    with pytest.raises(TypeError, match="data must be"):
        parse_event_auth(42)  # type: ignore[arg-type]


def test_application_token_comparison() -> None:
    assert verify_application_token("51856fef", "51856fef")
    assert not verify_application_token("51856fef", "51856fe")
    assert not verify_application_token("", "")  # an unset stored token never matches
    assert not verify_application_token(None, "51856fef")
    assert not verify_application_token("51856fef", None)
    assert verify_application_token("jéton", "jéton")
    assert not verify_application_token("jéton", "jeton")


def test_reprs_hide_the_secrets() -> None:
    auth = parse_event_auth(ONAPPINSTALL)
    shown = repr(auth)
    for secret in (
        APPLICATION_TOKEN,
        "s6p6eclrvim6da22ft9ch94ekreb52lv",
        "4s386p3q0tr8dy89xvmt96234v3dljg8",
    ):
        assert secret not in shown
    assert "a223c6b3710f85df22e9377d6c4f7553" in shown  # member_id is not a secret


async def test_tokens_from_an_install_event_drive_an_oauth_client() -> None:
    clock = ManualClock()
    portal = FakePortal(clock=clock)
    chat = portal.add_chat()
    app = portal.register_app()
    issued = portal.issue_tokens()
    block = {**issued.to_dict(), "application_token": "app-token-1"}
    block.pop("expires_at")
    block["expires_in"] = str(block["expires_in"])
    post = http_build_query({"event": "ONAPPINSTALL", "ts": str(int(START)), "auth": block})

    event = parse_event_auth(post, clock=clock)
    assert isinstance(event, EventAuth)
    assert event.verify("app-token-1")
    assert event.token is not None
    store = MemoryTokenStore()
    await store.save(event.token)  # what an install handler does

    token = await store.load(event.token.member_id)
    assert token is not None
    auth = OAuthAuth(
        token, client_id=app.client_id, client_secret=app.client_secret, store=store, clock=clock
    )
    async with Client(auth, transport=portal.transport()) as client:
        await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
        clock.advance(3600)
        await client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id})
    assert portal.refresh_count == 1
