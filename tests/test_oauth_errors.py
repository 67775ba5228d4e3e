"""A refresh the authorization server refuses raises a typed error and loses nothing."""

from __future__ import annotations

import logging

import pytest

from bitrix_dialog import (
    BitrixError,
    Client,
    InvalidClientError,
    MemoryTokenStore,
    OAuthAuth,
    OAuthError,
    OAuthToken,
    PaymentRequiredError,
    ReauthorizationRequiredError,
    ResponseDecodeError,
    TransportError,
)
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import FakeApp, FakePortal, MemoryTransport

from .oauth_kit import ManualClock, OAuthSetting, make_auth


class _Setup(OAuthSetting):
    """A portal with one app and one pair whose access token is about to expire."""

    def __init__(self) -> None:
        super().__init__()
        self.clock.advance(3600 - 30)

    async def call(self, auth: OAuthAuth, transport: MemoryTransport | None = None) -> None:
        async with Client(auth, transport=transport or self.portal.transport()) as client:
            await client.call("im.dialog.get", {"DIALOG_ID": self.chat.dialog_id})

    async def assert_nothing_lost(self, auth: OAuthAuth) -> None:
        assert auth.token is self.token
        assert await self.store.load(self.token.member_id) is self.token
        assert self.portal.calls == []  # the call itself never went out


async def test_spent_refresh_token_needs_reauthorisation() -> None:
    setup = _Setup()
    # Someone else spent the refresh token (and kept the new pair to themselves).
    await setup.call(make_auth(setup.portal, setup.app, setup.token, setup.clock))
    setup.portal.calls.clear()
    auth = setup.auth()
    with pytest.raises(ReauthorizationRequiredError) as caught:
        await setup.call(auth)
    assert caught.value.code == "invalid_grant"
    assert caught.value.status == 400
    assert setup.portal.refresh_token_reuse_count == 1
    await setup.assert_nothing_lost(auth)


async def test_unknown_client_id_is_wrong_client_with_http_200() -> None:
    setup = _Setup()
    auth = OAuthAuth(
        setup.token,
        client_id="app.unknown",
        client_secret=setup.app.client_secret,
        store=setup.store,
        clock=setup.clock,
    )
    with pytest.raises(InvalidClientError) as caught:
        await setup.call(auth)
    assert (caught.value.code, caught.value.status) == ("wrong_client", 200)
    await setup.assert_nothing_lost(auth)


async def test_wrong_client_secret_is_invalid_client() -> None:
    setup = _Setup()
    auth = OAuthAuth(
        setup.token,
        client_id=setup.app.client_id,
        client_secret="not-the-secret",
        store=setup.store,
        clock=setup.clock,
    )
    with pytest.raises(InvalidClientError) as caught:
        await setup.call(auth)
    assert (caught.value.code, caught.value.status) == ("invalid_client", 400)
    assert "not-the-secret" not in str(caught.value)
    await setup.assert_nothing_lost(auth)


async def test_lapsed_subscription_is_payment_required() -> None:
    setup = _Setup()
    setup.app.payment_required = True
    auth = setup.auth()
    with pytest.raises(PaymentRequiredError) as caught:
        await setup.call(auth)
    assert caught.value.description == "Payment required"
    await setup.assert_nothing_lost(auth)


async def test_unreachable_oauth_server_is_a_transport_error() -> None:
    setup = _Setup()

    async def handler(request: HttpRequest) -> HttpResponse:
        if request.url.path == "/oauth/token/":
            msg = "connection refused"
            raise ConnectionRefusedError(msg)
        return await setup.portal.handle(request)

    auth = setup.auth()
    with pytest.raises(TransportError):
        await setup.call(auth, MemoryTransport(handler))
    await setup.assert_nothing_lost(auth)
    await setup.call(auth)  # the server is back: the same pair refreshes fine
    assert setup.portal.refresh_count == 1


async def test_a_non_json_answer_keeps_status_and_a_redacted_body() -> None:
    setup = _Setup()

    async def handler(request: HttpRequest) -> HttpResponse:
        if request.url.path == "/oauth/token/":
            return HttpResponse(status=502, body=b"<html>Bad gateway</html>")
        return await setup.portal.handle(request)

    auth = setup.auth()
    with pytest.raises(ResponseDecodeError) as caught:
        await setup.call(auth, MemoryTransport(handler))
    assert caught.value.status == 502
    assert caught.value.body == b"<html>Bad gateway</html>"
    await setup.assert_nothing_lost(auth)


async def test_an_answer_that_is_not_a_pair_never_shows_its_tokens() -> None:
    setup = _Setup()
    leaked = '{"access_token": "fresh-access-123", "refresh_token": "fresh-refresh-456"}'

    async def handler(request: HttpRequest) -> HttpResponse:
        if request.url.path == "/oauth/token/":
            return HttpResponse(status=200, body=leaked.encode())  # no member_id, endpoint
        return await setup.portal.handle(request)

    auth = setup.auth()
    with pytest.raises(ResponseDecodeError) as caught:
        await setup.call(auth, MemoryTransport(handler))
    text = f"{caught.value} {caught.value!r} {caught.value.body!r}"
    assert "fresh-access-123" not in text
    assert "fresh-refresh-456" not in text
    await setup.assert_nothing_lost(auth)


async def test_a_pair_for_another_portal_is_refused() -> None:
    setup = _Setup()
    foreign = OAuthToken.from_dict({**setup.token.to_dict(), "member_id": "another-portal"})
    store = MemoryTokenStore([foreign])
    auth = make_auth(setup.portal, setup.app, foreign, setup.clock, store)
    with pytest.raises(OAuthError) as caught:
        await setup.call(auth)
    assert caught.value.code == "MEMBER_ID_MISMATCH"
    assert auth.token is foreign
    assert await store.load("another-portal") is foreign
    assert await store.load(setup.token.member_id) is None


async def test_secrets_stay_out_of_reprs_errors_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bitrix_dialog")
    setup = _Setup()
    auth = setup.auth()
    await setup.call(auth)  # one refresh
    wrong = FakeApp(client_id=setup.app.client_id, client_secret="wrong-secret")
    bad = make_auth(setup.portal, wrong, auth.token, setup.clock, MemoryTokenStore())
    setup.clock.advance(3600)
    errors: list[BitrixError] = []
    try:
        await setup.call(bad)
    except BitrixError as error:
        errors.append(error)
    assert errors
    secrets = {
        setup.app.client_secret,
        "wrong-secret",
        setup.token.access_token,
        auth.token.access_token,
    }
    secrets |= {t for t in (setup.token.refresh_token, auth.token.refresh_token) if t}
    shown = "\n".join(
        [
            caplog.text,
            repr(auth),
            repr(auth.token),
            repr(setup.token),
            repr(setup.store),
            repr(setup.app),
            *(f"{e} {e!r} {e.body_preview}" for e in errors),
        ]
    )
    assert "refreshing the pair" in caplog.text  # the flow was logged ...
    for secret in secrets:
        assert secret not in shown  # ... without a single secret


def test_tokens_travel_only_over_https() -> None:
    token = FakePortal(clock=ManualClock()).issue_tokens()
    plain = OAuthToken.from_dict(
        {**token.to_dict(), "client_endpoint": "http://portal.example.com/rest/"}
    )
    with pytest.raises(ValueError, match="client_endpoint must use https"):
        OAuthAuth(plain, client_id="app", client_secret="s")
    bad_server = OAuthToken.from_dict(
        {**token.to_dict(), "server_endpoint": "http://oauth.example.com/rest/"}
    )
    with pytest.raises(ValueError, match="server_endpoint must use https"):
        OAuthAuth(bad_server, client_id="app", client_secret="s")
    with pytest.raises(ValueError, match="oauth_server must use https"):
        OAuthAuth(token, client_id="app", client_secret="s", oauth_server="http://o.example/")
    loopback = OAuthToken.from_dict(
        {**token.to_dict(), "client_endpoint": "http://127.0.0.1:8080/rest/"}
    )
    assert OAuthAuth(loopback, client_id="app", client_secret="s").portal.port == 8080


def test_bad_constructor_arguments_name_the_parameter() -> None:
    token = FakePortal(clock=ManualClock()).issue_tokens()
    without_refresh = OAuthToken.from_dict({**token.to_dict(), "refresh_token": None})
    with pytest.raises(ValueError, match="refresh_token"):
        OAuthAuth(without_refresh, client_id="app", client_secret="s")
    with pytest.raises(ValueError, match="client_secret"):
        OAuthAuth(token, client_id="app", client_secret="")
    with pytest.raises(ValueError, match="skew"):
        OAuthAuth(token, client_id="app", client_secret="s", skew=-1)
    with pytest.raises(TypeError, match="store"):
        OAuthAuth(token, client_id="app", client_secret="s", store={})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="token"):
        OAuthAuth(token.to_dict(), client_id="app", client_secret="s")  # type: ignore[arg-type]


async def test_a_configured_oauth_server_overrides_server_endpoint() -> None:
    setup = _Setup()
    seen: list[str] = []

    async def handler(request: HttpRequest) -> HttpResponse:
        seen.append(str(request.url.origin()))
        return await setup.portal.handle(request)

    auth = setup.auth(oauth_server="https://oauth.bitrix24.tech")
    await setup.call(auth, MemoryTransport(handler))
    assert seen == ["https://oauth.bitrix24.tech", f"https://{setup.portal.domain}"]
    default = setup.auth()
    seen.clear()
    setup.clock.advance(3600)
    await setup.call(default, MemoryTransport(handler))
    assert seen[0] == "https://oauth.bitrix.info"  # the token's server_endpoint
