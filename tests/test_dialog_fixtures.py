"""Every documented and captured dialog payload decodes through the public client.

Each file in ``fixtures/payloads`` (provenance in its ``SOURCES.md``) is served verbatim by
the fake portal under its method's name; the typed client method must return a model
mirroring every key of the payload (:mod:`tests.payload_oracle`), or, for an error
envelope, raise the typed error with the portal's code and text.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bitrix_dialog import (
    AccessDeniedError,
    BitrixError,
    Client,
    Dialog,
    InvalidDialogIdError,
    ModelDecodeError,
)
from bitrix_dialog.testing import CallContext, FakePortal, PortalError

from .payload_oracle import assert_mirrors

FIXTURES = Path(__file__).parent / "fixtures" / "payloads"
V2 = "imbot.v2.Chat.get"


def _load(path: Path) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return payload


def _method(path: Path) -> str:
    return path.name.split("__", 1)[0]


ALL = sorted(FIXTURES.glob("*.json"))
ANSWERS = [p for p in ALL if "result" in _load(p)]
ERRORS = [p for p in ALL if "error" in _load(p)]
REJECTED = sorted((FIXTURES / "rejected").glob("*.json"))


def test_every_fixture_is_an_answer_or_an_error_and_named_in_sources() -> None:
    sources = (FIXTURES / "SOURCES.md").read_text(encoding="utf-8")
    assert len(ALL) >= 30
    assert sorted(ANSWERS + ERRORS) == ALL
    for path in [*ALL, *REJECTED]:
        assert f"`{path.name}`" in sources or f"`rejected/{path.name}`" in sources, path.name
    methods = {_method(p) for p in ANSWERS}
    assert methods == {"im.dialog.get", "imbot.dialog.get", "imopenlines.dialog.get", V2}


def _serve(portal: FakePortal, method: str, envelope: dict[str, Any]) -> None:
    """Answer ``method`` with ``envelope`` exactly as published."""

    async def handler(context: CallContext) -> Any:
        if "error" in envelope:
            raise PortalError(envelope["error"], envelope["error_description"], status=400)
        return envelope["result"]

    portal.register_method(method, handler, case_sensitive=method == V2)


async def _typed_call(client: Client, method: str) -> Dialog:
    """Call ``method`` through its typed client method, with valid arguments."""
    if method == "im.dialog.get":
        return await client.im.dialog.get("chat29")
    if method == "imbot.dialog.get":
        return await client.imbot.dialog.get(256)
    if method == "imopenlines.dialog.get":
        return await client.imopenlines.dialog.get(user_code="livechat|1|1373|211")
    return await client.imbot.v2.chat.get("chat5", bot_id=456, bot_token="my_bot_token")


@pytest.fixture
async def client(portal: FakePortal) -> AsyncIterator[Client]:
    async with Client(portal.webhook_url(), transport=portal.transport()) as client:
        yield client


@pytest.mark.parametrize("path", ANSWERS, ids=lambda p: p.stem)
async def test_fixture_decodes_to_a_dialog_mirroring_every_key(
    portal: FakePortal, client: Client, path: Path
) -> None:
    envelope = _load(path)
    method = _method(path)
    _serve(portal, method, envelope)

    dialog = await _typed_call(client, method)

    assert portal.calls[-1].method == method
    result = envelope["result"]
    if method == V2:
        assert_mirrors(dialog, result["chat"], "camel")
        assert dialog.result_extra == {k: v for k, v in result.items() if k != "chat"}
    else:
        assert_mirrors(dialog, result, "snake")
        assert dialog.result_extra == {}
    assert dialog.id == int(result["chat"]["id"] if method == V2 else result["id"])


ONE_PER_METHOD = list({_method(p): p for p in ANSWERS}.values())


@pytest.mark.parametrize("path", ONE_PER_METHOD, ids=lambda p: p.stem)
async def test_fixture_decodes_the_same_over_a_real_socket(path: Path) -> None:
    portal = FakePortal()
    envelope = _load(path)
    method = _method(path)
    _serve(portal, method, envelope)
    async with portal.serve() as base, Client(portal.webhook_url(base)) as client:
        dialog = await _typed_call(client, method)
    if method == V2:
        assert_mirrors(dialog, envelope["result"]["chat"], "camel")
    else:
        assert_mirrors(dialog, envelope["result"], "snake")


ERROR_CLASSES: dict[str, type[BitrixError]] = {
    "DIALOG_ID_EMPTY": InvalidDialogIdError,
    "ACCESS_ERROR": AccessDeniedError,
    "ACCESS_DENIED": AccessDeniedError,
}


@pytest.mark.parametrize("path", ERRORS, ids=lambda p: p.stem)
async def test_documented_error_reaches_the_caller_typed(
    portal: FakePortal, client: Client, path: Path
) -> None:
    envelope = _load(path)
    method = _method(path)
    _serve(portal, method, envelope)

    with pytest.raises(ERROR_CLASSES[envelope["error"]]) as caught:
        await _typed_call(client, method)

    assert caught.value.code == envelope["error"]
    assert caught.value.description == envelope["error_description"]
    assert caught.value.method == method
    assert caught.value.status == 400


async def test_redacted_capture_is_refused_naming_the_field(
    portal: FakePortal, client: Client
) -> None:
    (path,) = REJECTED
    envelope = _load(path)
    _serve(portal, "im.dialog.get", envelope)

    with pytest.raises(ModelDecodeError) as caught:
        await client.im.dialog.get("10")

    error = caught.value
    assert error.path == "parent_chat_id"
    assert error.method == "im.dialog.get"
    assert error.payload == envelope["result"]
    assert error.body is not None
    assert b'"parent_chat_id": "***"' in error.body
    assert "parent_chat_id" in str(error)
