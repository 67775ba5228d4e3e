"""The fake portal's ``batch`` as a raw HTTP client sees it (it is a product feature).

These send hand-made requests, as other SDKs or curl would, to check the documented
server behaviour the fake models: both ``cmd`` forms, form bodies, PHP's ``(bool)``
``halt``, the 50-command limit, the PHP JSON shapes and references.
"""

from __future__ import annotations

import json
from typing import Any

from yarl import URL

from bitrix_dialog.abc import HttpRequest
from bitrix_dialog.testing import CallContext, FakePortal, http_build_query


async def post(
    portal: FakePortal,
    body: dict[str, Any] | str,
    *,
    token: str | None = None,
) -> tuple[int, dict[str, Any]]:
    if isinstance(body, str):
        data, content_type = body.encode(), "application/x-www-form-urlencoded"
    else:
        data, content_type = json.dumps(body).encode(), "application/json"
    url = URL(portal.client_endpoint() + "batch") if token else URL(portal.webhook_url() + "batch")
    if token:
        url = url.with_query(auth=token)
    response = await portal.handle(
        HttpRequest(method="POST", url=url, headers={"Content-Type": content_type}, body=data)
    )
    payload: dict[str, Any] = json.loads(response.body)
    return response.status, payload


def sections(payload: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = payload["result"]
    return result


async def test_answer_shape_with_php_empty_collections_and_http_200_on_failure() -> None:
    portal = FakePortal()
    chat = portal.add_chat(name="Support")
    status, payload = await post(
        portal,
        {"cmd": {"ok": f"im.dialog.get?DIALOG_ID={chat.dialog_id}", "bad": "im.dialog.get"}},
    )
    assert status == 200
    assert set(payload) == {"result", "time"}
    got = sections(payload)
    assert set(got) == {"result", "result_error", "result_total", "result_next", "result_time"}
    assert got["result"]["ok"]["name"] == "Support"
    assert got["result_error"] == {
        "bad": {"error": "DIALOG_ID_EMPTY", "error_description": "Dialog ID can't be empty"}
    }
    assert got["result_total"] == []
    assert got["result_next"] == []
    assert set(got["result_time"]) == {"ok"}
    assert {"start", "finish", "duration", "operating"} <= set(got["result_time"]["ok"])
    assert [(c.method, c.status) for c in portal.calls] == [("batch", 200)]


async def test_cmd_as_a_list_gives_list_shaped_sections_where_keys_are_0_to_n() -> None:
    portal = FakePortal()
    chat = portal.add_chat()
    _, payload = await post(
        portal, {"cmd": [f"im.dialog.get?DIALOG_ID={chat.dialog_id}", "im.dialog.get?DIALOG_ID=x"]}
    )
    got = sections(payload)
    assert isinstance(got["result"], list)  # keys [0]
    assert got["result"][0]["id"] == chat.id
    assert isinstance(got["result_error"], dict)  # keys [1]: not 0..n-1
    assert got["result_error"]["1"]["error"] == "DIALOG_ID_EMPTY"
    assert isinstance(got["result_time"], list)


async def test_form_encoded_batch_is_read_like_a_json_one() -> None:
    portal = FakePortal()
    chat = portal.add_chat(name="Form")
    command = "im.dialog.get?" + http_build_query({"DIALOG_ID": chat.dialog_id})
    _, payload = await post(portal, http_build_query({"cmd": {"first": command}, "halt": 0}))
    assert sections(payload)["result"]["first"]["name"] == "Form"


async def test_halt_is_cast_like_php_bool() -> None:
    portal = FakePortal()
    chat = portal.add_chat()
    cmd = {"bad": "im.dialog.get", "good": f"im.dialog.get?DIALOG_ID={chat.dialog_id}"}
    for halt, stops in [
        ("false", True),
        ("0", False),
        (0, False),
        (1, True),
        ("", False),
        (True, True),
    ]:
        _, payload = await post(portal, {"cmd": cmd, "halt": halt})
        ran = "good" in sections(payload)["result"]
        assert ran is not stops, halt
    _, payload = await post(portal, http_build_query({"cmd": cmd, "halt": "false"}))
    assert sections(payload)["result"] == []


async def test_more_than_50_commands_each_extra_one_gets_length_exceeded() -> None:
    portal = FakePortal()
    chat = portal.add_chat()
    cmd = {f"k{n}": f"im.dialog.get?DIALOG_ID={chat.dialog_id}" for n in range(55)}
    status, payload = await post(portal, {"cmd": cmd})
    got = sections(payload)
    assert status == 200
    assert len(got["result"]) == 50
    assert got["result_error"] == {
        f"k{n}": {
            "error": "ERROR_BATCH_LENGTH_EXCEEDED",
            "error_description": "Max batch length exceeded",
        }
        for n in range(50, 55)
    }
    _, halted = await post(portal, {"cmd": cmd, "halt": 1})
    assert list(sections(halted)["result_error"]) == ["k50"]


async def test_nested_batch_and_unknown_methods_are_refused_per_command() -> None:
    portal = FakePortal()
    _, payload = await post(
        portal,
        {"cmd": {"inner": "batch?cmd[x]=app.info", "file": "download", "nope": "no.such.method"}},
    )
    errors = sections(payload)["result_error"]
    assert errors["inner"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"
    assert errors["file"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"
    assert errors["nope"]["error"] == "ERROR_METHOD_NOT_FOUND"


async def test_a_command_that_is_not_a_string_is_skipped_without_a_trace() -> None:
    portal = FakePortal()
    chat = portal.add_chat()
    _, payload = await post(
        portal, {"cmd": {"odd": 5, "real": f"im.dialog.get?DIALOG_ID={chat.dialog_id}"}}
    )
    got = sections(payload)
    assert list(got["result"]) == ["real"]
    assert got["result_error"] == []


async def test_references_follow_the_servers_substitution_rules() -> None:
    portal = FakePortal()
    chat = portal.add_chat(name="Ref")

    async def echo(context: CallContext) -> Any:
        return dict(context.params)

    portal.register_method("test.echo", echo)
    query = http_build_query(
        {
            "whole": "$result[d][restrictions]",
            "number": "chat$result[d][id]",
            "glued": "x$result[d][id]y",
            "object_in_text": "see $result[d][restrictions]",
            "later": "$result[e][id]",
            "error": "$error[bad][error]",
        }
    )
    _, payload = await post(
        portal,
        {
            "cmd": {
                "d": f"im.dialog.get?DIALOG_ID={chat.dialog_id}",
                "bad": "im.dialog.get",
                "echo": f"test.echo?{query}",
                "e": f"im.dialog.get?DIALOG_ID={chat.dialog_id}",
            }
        },
    )
    got = sections(payload)["result"]
    echoed = got["echo"]
    assert echoed["whole"] == got["d"]["restrictions"]  # the value itself
    assert echoed["number"] == f"chat{chat.id}"  # a number spliced into text
    assert echoed["glued"] == "x1"  # the match runs to whitespace, trailing text included
    assert echoed["object_in_text"] == "see $result[d][restrictions]"  # not a string: untouched
    assert echoed["later"] == {"d": got["d"]}  # PHP stops at the last key it finds
    assert echoed["error"] == "DIALOG_ID_EMPTY"


async def test_subcommands_run_as_the_outer_caller() -> None:
    portal = FakePortal()
    chat = portal.add_chat(members=frozenset({1}))
    token = portal.add_access_token(user_id=7)
    _, payload = await post(
        portal, {"cmd": {"a": f"im.dialog.get?DIALOG_ID={chat.dialog_id}"}}, token=token
    )
    assert sections(payload)["result_error"]["a"]["error"] == "ACCESS_ERROR"
    status, refused = await post(portal, {"cmd": {"a": "app.info"}}, token="not-a-token")
    assert (status, refused["error"]) == (401, "invalid_token")


async def test_faults_for_any_method_hit_the_batch_request_not_its_commands() -> None:
    portal = FakePortal()
    chat = portal.add_chat()
    portal.fail_next("QUERY_LIMIT_EXCEEDED", "Too many requests")
    status, payload = await post(
        portal, {"cmd": {"a": f"im.dialog.get?DIALOG_ID={chat.dialog_id}"}}
    )
    assert (status, payload["error"]) == (503, "QUERY_LIMIT_EXCEEDED")
    portal.fail_next("OPERATION_TIME_LIMIT", "blocked", method="im.dialog.get")
    status, payload = await post(
        portal,
        {
            "cmd": {
                "a": f"im.dialog.get?DIALOG_ID={chat.dialog_id}",
                "b": f"im.dialog.get?DIALOG_ID={chat.dialog_id}",
            }
        },
    )
    assert status == 200
    assert sections(payload)["result_error"]["a"]["error"] == "OPERATION_TIME_LIMIT"
    assert list(sections(payload)["result"]) == ["b"]
