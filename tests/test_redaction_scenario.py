"""One whole day of an app, with every logger at DEBUG: no secret may show anywhere.

The scenario uses every credential the SDK handles: a webhook code, OAuth access and
refresh tokens (refreshed once, then refused), the app's client secret, an event's
application token and a bot token. It runs webhook and OAuth calls, a batch, typed
calls with the bot token, a portal move, transport failures in memory and over real
sockets (including a server answering garbage and a refresh that loses its
connection), and an event post through the aiohttp integration. Afterwards none of
those secrets may appear in any log record (message, arguments, formatted traceback),
in the ``repr``/``str`` of any object the user touched, or in any exception string
along its ``__cause__``/``__context__`` chain.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from bitrix_dialog import (
    AiohttpTransport,
    BatchCall,
    BitrixError,
    Client,
    Hooks,
    MemoryTokenStore,
    OAuthAuth,
    OAuthError,
    OAuthToken,
    PortalMove,
    RetryPolicy,
    Timeout,
    TransportError,
    WebhookAuth,
    parse_event_auth,
)
from bitrix_dialog.abc import HttpRequest, HttpResponse, Transport
from bitrix_dialog.aiohttp import BitrixEvent, BitrixEvents
from bitrix_dialog.testing import FakePortal, Faults, MemoryTransport

from .aiohttp_kit import oauth_app, post, served
from .conftest import QUICK_RETRY
from .oauth_kit import ManualClock, RecordingStore

BOT_ID = 456
BOT_TOKEN = "b0t-t0ken-6f1e2d3c4b5a"
NEW_HOME = "https://renamed.example.com"


class Scene:
    """Everything the scenario touched: secrets to look for and things to look in."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.objects: list[object] = []
        self.errors: list[BaseException] = []

    def secret(self, *values: str | None) -> None:
        self.secrets.update(value for value in values if value)

    def token(self, token: OAuthToken | None) -> None:
        if token is not None:
            self.secret(token.access_token, token.refresh_token, token.application_token)
            self.objects.append(token)

    def touch(self, *objects: object) -> None:
        self.objects.extend(objects)

    async def attempt(self, call: Any) -> Any:
        """Await ``call``; a ``BitrixError`` is kept for inspection instead of raised."""
        try:
            result = await call
        except BitrixError as error:
            self.errors.append(error)
            return error
        self.touch(result)
        return result


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def _texts(scene: Scene, records: list[logging.LogRecord]) -> Iterator[tuple[str, str]]:
    for record in records:
        yield f"log {record.name}: message", record.getMessage()
        yield f"log {record.name}: args", repr(record.args)
        yield f"log {record.name}: msg", str(record.msg)
        if record.exc_info:
            yield (
                f"log {record.name}: traceback",
                "".join(traceback.format_exception(*record.exc_info)),
            )
        if record.exc_text:
            yield f"log {record.name}: exc_text", record.exc_text
    for thing in scene.objects:
        yield f"repr of {type(thing).__name__}", repr(thing)
        yield f"str of {type(thing).__name__}", str(thing)
    for error in scene.errors:
        for link in _chain(error):
            where = f"{type(error).__name__} chain: {type(link).__name__}"
            yield where, str(link)
            yield where, repr(link)
            yield where, repr(link.args)
        yield f"traceback of {type(error).__name__}", "".join(traceback.format_exception(error))


@asynccontextmanager
async def garbage_server(
    reply: bytes = b"HTTP/1.1 999999 \x00\x01garbage\r\n\r\n",
) -> AsyncIterator[str]:
    """A server on 127.0.0.1 that answers every request with ``reply`` (not HTTP) and
    closes the connection (at once, when ``reply`` is empty)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


class Recorder:
    """A transport that keeps every request and answer, and hooks that keep every event."""

    def __init__(self, scene: Scene, inner: Transport) -> None:
        self.scene = scene
        self.inner = inner
        self.hooks = Hooks(
            on_request=scene.touch, on_retry=scene.touch, on_limiter_wait=scene.touch
        )

    async def send(self, request: HttpRequest) -> HttpResponse:
        self.scene.touch(request)
        response = await self.inner.send(request)
        self.scene.touch(response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def webhook_day(scene: Scene, portal: FakePortal) -> None:
    chat = portal.add_chat(name="Ops", members=frozenset({1, BOT_ID}))
    portal.add_bot(BOT_ID, token=BOT_TOKEN, chats=(chat.id,))
    scene.secret(portal.webhook_code, BOT_TOKEN)
    recorder = Recorder(scene, portal.transport())
    client = Client(
        portal.webhook_url(),
        transport=recorder,
        retry=QUICK_RETRY,
        hooks=recorder.hooks,
        bot_id=BOT_ID,
        bot_token=BOT_TOKEN,
    )
    scene.touch(client, client.auth, client.transport, client.limiter, client.imbot.v2.chat)
    async with client:
        await scene.attempt(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}))
        await scene.attempt(client.im.dialog.get(chat.dialog_id))
        await scene.attempt(client.imbot.v2.chat.get(chat.dialog_id))
        await scene.attempt(client.imbot.v2.chat.get("chat999"))
        await scene.attempt(client.imbot.v2.chat.get(chat.dialog_id, bot_id=BOT_ID, bot_token="x"))
        await scene.attempt(client.call("im.dialog.get", {"DIALOG_ID": "chat999"}))
        await scene.attempt(client.call("no.such.method"))
        command = BatchCall(
            method="imbot.v2.Chat.get",
            params={"botId": BOT_ID, "dialogId": chat.dialog_id, "botToken": BOT_TOKEN},
        )
        scene.touch(command)
        calls: dict[str, BatchCall | tuple[str, dict[str, Any]]] = {
            "dialog": ("im.dialog.get", {"DIALOG_ID": chat.dialog_id}),
            "bot": command,
            "missing": ("im.dialog.get", {"DIALOG_ID": "chat999"}),
        }
        batch = await scene.attempt(client.batch(calls))
        scene.touch(*batch.values())
        scene.errors.extend(batch.errors.values())
        # the portal fails in front: dropped connections, 500s, HTML pages
        for faults in (Faults(dropped=1.0), Faults(server_errors=1.0), Faults(non_json=1.0)):
            portal.limits.faults = faults
            await scene.attempt(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}))
        portal.limits.faults = None
    portal.fail_next("QUERY_LIMIT_EXCEEDED", status=503)
    async with Client(portal.webhook_url(), transport=recorder, retry=RetryPolicy.never()) as once:
        await scene.attempt(once.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}))
    # a webhook code in a URL the SDK refuses
    with pytest.raises(ValueError, match="must use https") as refused:
        WebhookAuth(portal.webhook_url().replace("https", "http"))
    scene.errors.append(refused.value)


async def socket_day(scene: Scene, portal: FakePortal) -> None:
    chat = portal.add_chat()
    async with portal.serve() as base:
        url = portal.webhook_url(base)
        async with Client(url, retry=RetryPolicy.never()) as client:
            scene.touch(client, client.transport)
            await scene.attempt(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}))
            portal.limits.faults = Faults(dropped=1.0)
            await scene.attempt(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}))
            portal.limits.faults = Faults(latency=0.2)
            await scene.attempt(
                client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}, deadline=0.05)
            )
            portal.limits.faults = None
        transport = AiohttpTransport(timeout=Timeout(connect=1, read=0.05))
        portal.limits.faults = Faults(latency=0.2)
        async with Client(url, transport=transport, retry=RetryPolicy.never()) as client:
            await scene.attempt(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}))
        await transport.aclose()
        portal.limits.faults = None
    async with garbage_server() as garbage:
        code_url = f"{garbage}/rest/1/{portal.webhook_code}/"
        async with Client(code_url, retry=RetryPolicy.never()) as client:
            await scene.attempt(client.call("im.dialog.get", {"DIALOG_ID": "chat1"}))
        closed = code_url.replace(garbage, garbage.rsplit(":", 1)[0] + ":9")  # nothing listens
        async with Client(closed, retry=RetryPolicy.never()) as client:
            await scene.attempt(client.call("im.dialog.get", {"DIALOG_ID": "chat1"}))


async def oauth_day(scene: Scene, portal: FakePortal, clock: ManualClock) -> None:
    chat = portal.add_chat()
    app = portal.register_app()
    scene.secret(app.client_secret)
    scene.touch(app)
    token = portal.issue_tokens()
    scene.token(token)
    store = MemoryTokenStore([token])
    moves: list[PortalMove] = []

    def accept(move: PortalMove) -> bool:
        moves.append(move)
        return True

    auth = OAuthAuth(
        token,
        client_id=app.client_id,
        client_secret=app.client_secret,
        store=store,
        clock=clock,
        on_portal_moved=accept,
    )
    scene.touch(auth, store)
    recorder = Recorder(scene, portal.transport())
    async with Client(auth, transport=recorder, retry=QUICK_RETRY, hooks=recorder.hooks) as client:
        await scene.attempt(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}))
        clock.advance(4000)  # expired: the next call refreshes
        await scene.attempt(client.im.dialog.get(chat.dialog_id))
        scene.token(await store.load(token.member_id))
        portal.move_to(NEW_HOME)  # a 302, verified by one more refresh
        await scene.attempt(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}))
        scene.token(await store.load(token.member_id))
        scene.touch(*moves)
        portal.move_to(None)
        clock.advance(4000)
        app.payment_required = True  # the refresh is refused
        failed = await scene.attempt(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}))
        assert isinstance(failed, OAuthError)
    scene.token(auth.token)
    # a store that fails while saving a refreshed pair, and says which one in its message
    app.payment_required = False
    clock.advance(4000)
    failing = RecordingStore([], [auth.token])
    failing.fail_saves = 1
    flaky = OAuthAuth(
        auth.token,
        client_id=app.client_id,
        client_secret=app.client_secret,
        store=failing,
        clock=clock,
    )
    scene.touch(flaky, failing)
    async with Client(flaky, transport=portal.transport(), retry=QUICK_RETRY) as client:
        await scene.attempt(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}))
        await scene.attempt(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}))
    for saved in failing.saves:
        scene.token(saved)
    scene.token(flaky.token)
    # refreshes that reach something other than the authorization server, over sockets:
    # one answers garbage, one drops the connection without a word
    for reply in (b"HTTP/1.1 999999 \x00\x01garbage\r\n\r\n", b""):
        async with garbage_server(reply) as stray_server:
            stray = OAuthAuth(
                token,
                client_id=app.client_id,
                client_secret=app.client_secret,
                oauth_server=stray_server,
                clock=clock,
            )
            scene.touch(stray)
            transport = AiohttpTransport()
            async with Client(stray, transport=transport, retry=RetryPolicy.never()) as client:
                await scene.attempt(client.call("im.dialog.get", {"DIALOG_ID": chat.dialog_id}))
            await transport.aclose()


async def event_day(scene: Scene, portal: FakePortal) -> None:
    app = portal.register_app()
    scene.secret(app.client_secret, app.application_token)
    chat = portal.add_chat()
    portal.add_bot(BOT_ID + 1, token="another-b0t-t0ken", chats=(chat.id,))
    scene.secret("another-b0t-t0ken")
    events = BitrixEvents()
    received: list[BitrixEvent] = []

    @events.fallback
    async def record(event: BitrixEvent, client: Client, request: web.Request) -> None:
        received.append(event)
        await client.im.dialog.get(chat.dialog_id)

    web_app = oauth_app(portal, app, events)
    install = portal.events.install()
    message = portal.events.bot_message(BOT_ID + 1, "hi", dialog_id=chat.dialog_id)
    forged = portal.events.bot_message(BOT_ID + 1, "hi", application_token="forged-t0ken")
    scene.secret("forged-t0ken")
    for body in (install, message, forged):
        auth = parse_event_auth(body)
        scene.touch(auth)
        scene.token(auth.token)
    async with served(web_app) as http:
        for body in (install, message, forged, b"event=ONIMBOTMESSAGEADD&auth[member_id]=x"):
            await post(http, body)
    scene.touch(*received)
    for event in received:
        for bot in getattr(event, "bots", ()):
            scene.touch(bot, bot.auth)
            scene.token(bot.auth.token)
    assert received, "the verified posts reached the handler"


async def memory_day(scene: Scene) -> None:
    """A transport error raised by the user's own handler keeps the secret out too."""

    async def broken(request: HttpRequest) -> HttpResponse:
        raise ConnectionResetError(f"lost {request.url}")  # a careless message

    transport = MemoryTransport(broken)
    url = "https://example.bitrix24.com/rest/1/m3m0ry-c0de/"
    scene.secret("m3m0ry-c0de")
    async with Client(url, transport=transport, retry=RetryPolicy.never()) as client:
        error = await scene.attempt(client.call("im.dialog.get", {"DIALOG_ID": "chat1"}))
    assert isinstance(error, TransportError)


async def test_no_secret_in_any_log_repr_or_error_of_a_whole_scenario(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, aiohttp's, asyncio's
    scene = Scene()
    clock = ManualClock()
    await webhook_day(scene, FakePortal())
    await socket_day(scene, FakePortal())
    await oauth_day(scene, FakePortal(clock=clock), clock)
    await event_day(scene, FakePortal())
    await memory_day(scene)

    # The scenario went where it says: every kind of failure, and every kind of secret.
    kinds = {type(error).__name__ for error in scene.errors}
    assert kinds >= {
        "TransportError",
        "RequestTimeoutError",
        "ResponseDecodeError",
        "ServerError",
        "QueryLimitExceededError",
        "AccessDeniedError",
        "PaymentRequiredError",
        "TokenStoreError",
        "ValueError",
    }, kinds
    assert len(scene.secrets) >= 20
    assert any(record.name == "aiohttp.access" for record in caplog.records)
    leaks = [
        f"{where}: {secret!r} in {text[:300]!r}"
        for where, text in _texts(scene, caplog.records)
        for secret in scene.secrets
        if secret in text
    ]
    assert not leaks, "\n".join(leaks)
