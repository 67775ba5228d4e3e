"""Decoding real-world ``batch`` answers, quirks included, through the public client.

Each body is served verbatim by a ``MemoryTransport`` handler. Shapes follow the
official examples (EN ``settings/how-to-call-rest-api/batch.md``) and real captures
kept by fast_bitrix24 (``tests/real_responses/*``), renamed to the command names the
SDK sent where the capture used other keys.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bitrix_dialog import (
    BatchError,
    BatchNotExecutedError,
    BatchResult,
    BatchResultMissingError,
    BitrixError,
    Client,
    InsufficientScopeError,
    ResponseDecodeError,
    RestResponse,
)
from bitrix_dialog.abc import HttpRequest, HttpResponse
from bitrix_dialog.testing import MemoryTransport

WEBHOOK = "https://portal.example.com/rest/1/secretcode/"

TIME = {
    "start": 1724916859.46156,
    "finish": 1724916859.464775,
    "duration": 0.0032150745391845703,
    "processing": 0.003075838088989258,
    "date_start": "2024-08-29T10:34:19+02:00",
    "date_finish": "2024-08-29T10:34:19+02:00",
}


def envelope(sections: Any) -> dict[str, Any]:
    return {"result": sections, "time": TIME}


async def run(
    body: Any,
    calls: dict[str, tuple[str, dict[str, Any]]],
    *,
    halt: bool = False,
    status: int = 200,
) -> tuple[BatchResult, list[HttpRequest]]:
    sent: list[HttpRequest] = []
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()

    async def answer(request: HttpRequest) -> HttpResponse:
        sent.append(request)
        return HttpResponse(status=status, headers={"Content-Type": "application/json"}, body=raw)

    async def no_wait(seconds: float) -> None:
        """Retries of a failing answer back off without the test waiting for them."""

    async with Client(WEBHOOK, transport=MemoryTransport(answer), sleep=no_wait) as client:
        return await client.batch(calls, halt=halt), sent


async def test_docs_success_example_with_empty_sections_as_lists() -> None:
    body = envelope(
        {
            "result": {
                "get_user": {"ID": "1", "UF_DEPARTMENT": [1]},
                "get_department": [{"ID": "1", "NAME": "DEMO", "SORT": 500}],
            },
            "result_error": [],
            "result_total": {"get_department": 1},
            "result_next": [],
            "result_time": {"get_user": TIME, "get_department": TIME},
        }
    )
    result, sent = await run(
        body,
        {
            "get_user": ("user.current", {}),
            "get_department": ("department.get", {"ID": "$result[get_user][UF_DEPARTMENT][0]"}),
        },
    )
    assert json.loads(sent[0].body) == {
        "cmd": {
            "get_user": "user.current",
            "get_department": "department.get?ID=%24result%5Bget_user%5D%5BUF_DEPARTMENT%5D%5B0%5D",
        },
        "halt": 0,
    }
    user, department = result["get_user"], result["get_department"]
    assert isinstance(user, RestResponse)
    assert isinstance(department, RestResponse)
    assert user.method == "user.current"
    assert user.result == {"ID": "1", "UF_DEPARTMENT": [1]}
    assert user.total is None
    assert department.total == 1
    assert department.next is None
    assert department.time is not None
    assert department.time.duration == pytest.approx(0.0032150745391845703)
    assert result.ok


async def test_docs_halt_example_reports_the_rest_as_not_executed() -> None:
    body = envelope(
        {
            "result": [],
            "result_error": {"get_user": {"error": "insufficient_scope", "error_description": ""}},
            "result_total": [],
            "result_next": [],
            "result_time": [],
        }
    )
    result, sent = await run(
        body,
        {"get_user": ("user.current", {}), "get_department": ("department.get", {"ID": "1"})},
        halt=True,
    )
    assert json.loads(sent[0].body)["halt"] == 1
    error = result["get_user"]
    assert isinstance(error, InsufficientScopeError)
    assert (error.code, error.description, error.method) == (
        "insufficient_scope",
        "",
        "user.current",
    )
    skipped = result["get_department"]
    assert isinstance(skipped, BatchNotExecutedError)
    assert skipped.halted_by == "get_user"
    assert skipped.method == "department.get"


async def test_empty_error_code_is_still_an_error_with_its_description() -> None:
    body = envelope(
        {
            "result": {"deal": {"ID": "35943"}},
            "result_error": {
                "lead": {"error": "", "error_description": "ID is not defined or invalid."}
            },
            "result_total": [],
            "result_next": [],
            "result_time": {"deal": {**TIME, "operating": 1.831031084060669}},
        }
    )
    result, _ = await run(
        body, {"lead": ("crm.lead.get", {"ID": "0"}), "deal": ("crm.deal.get", {"ID": "35943"})}
    )
    lead = result["lead"]
    assert type(lead) is BitrixError
    assert lead.code == ""
    assert lead.description == "ID is not defined or invalid."
    assert lead.method == "crm.lead.get"
    assert json.loads(lead.body or b"") == {
        "error": "",
        "error_description": "ID is not defined or invalid.",
    }
    deal = result["deal"]
    assert isinstance(deal, RestResponse)
    assert deal.time is not None
    assert deal.time.operating == pytest.approx(1.831031084060669)


async def test_list_shaped_sections_are_read_as_php_keys_and_nothing_is_dropped() -> None:
    """A capture whose result_error is a JSON list (PHP keys 0, 1): no sent name matches them."""
    body = envelope(
        {
            "result": {"deal": {"ID": "35943"}},
            "result_error": [
                {"error": "", "error_description": "ID is not defined or invalid."},
                {"error": "", "error_description": "Not found"},
            ],
            "result_total": [],
            "result_next": [],
            "result_time": {"deal": TIME},
        }
    )
    result, _ = await run(
        body,
        {
            "lead": ("crm.lead.get", {"ID": "x"}),
            "contact": ("crm.contact.get", {"ID": "y"}),
            "deal": ("crm.deal.get", {"ID": "35943"}),
        },
    )
    assert list(result) == ["lead", "contact", "deal"]
    for name in ("lead", "contact"):
        missing = result[name]
        assert isinstance(missing, BatchResultMissingError)
        assert isinstance(missing, ResponseDecodeError)
        assert "names that were not sent: 0, 1" in str(missing)
        assert b"Not found" in (missing.body or b"")
    assert isinstance(result["deal"], RestResponse)


async def test_empty_list_results_and_counts_from_a_real_capture() -> None:
    body = envelope(
        {
            "result": {"order0000000000": []},
            "result_error": [],
            "result_total": {"order0000000000": 0},
            "result_next": [],
            "result_time": {"order0000000000": {**TIME, "operating": 0}},
        }
    )
    result, _ = await run(body, {"order0000000000": ("sale.order.list", {"start": 0})})
    outcome = result["order0000000000"]
    assert isinstance(outcome, RestResponse)
    assert (outcome.result, outcome.total, outcome.next) == ([], 0, None)


async def test_next_and_total_given_per_command() -> None:
    body = envelope(
        {
            "result": {"page": [{"ID": "1"}], "other": None},
            "result_error": [],
            "result_total": {"page": "120"},
            "result_next": {"page": 50},
            "result_time": [],
        }
    )
    result, _ = await run(body, {"page": ("crm.lead.list", {}), "other": ("im.chat.get", {})})
    page, other = result["page"], result["other"]
    assert isinstance(page, RestResponse)
    assert (page.next, page.total, page.time) == (50, 120, None)
    assert isinstance(other, RestResponse)
    assert other.result is None


async def test_commands_past_the_limit_get_their_own_batch_error() -> None:
    exceeded = {
        "error": "ERROR_BATCH_LENGTH_EXCEEDED",
        "error_description": "Max batch length exceeded",
    }
    body = envelope(
        {
            "result": {"a": 1},
            "result_error": {"b": exceeded},
            "result_total": [],
            "result_next": [],
            "result_time": {"a": TIME},
        }
    )
    result, _ = await run(body, {"a": ("app.info", {}), "b": ("app.info", {})})
    assert isinstance(result["a"], RestResponse)
    error = result["b"]
    assert isinstance(error, BatchError)
    assert error.code == "ERROR_BATCH_LENGTH_EXCEEDED"


async def test_a_command_missing_from_every_section_is_reported() -> None:
    body = envelope(
        {
            "result": {"a": 1},
            "result_error": [],
            "result_total": [],
            "result_next": [],
            "result_time": [],
        }
    )
    result, _ = await run(body, {"a": ("app.info", {}), "b": ("app.info", {})})
    missing = result["b"]
    assert isinstance(missing, BatchResultMissingError)
    assert missing.method == "app.info"
    assert missing.code == "BATCH_RESULT_MISSING"
    assert json.loads(missing.body or b"")["result"] == {"a": 1}
    with pytest.raises(BatchResultMissingError, match="no outcome for command 'b'"):
        result.raise_first()


async def test_an_error_entry_wins_over_a_result_entry() -> None:
    body = envelope(
        {
            "result": {"a": {"odd": True}},
            "result_error": {"a": {"error": "ACCESS_ERROR", "error_description": "no"}},
        }
    )
    result, _ = await run(body, {"a": ("im.dialog.get", {"DIALOG_ID": "chat1"})})
    assert isinstance(result["a"], BitrixError)
    assert result["a"].code == "ACCESS_ERROR"


@pytest.mark.parametrize("sections", ["oops", 5, [1, 2]])
async def test_a_result_that_is_not_sections_fails_each_command(sections: Any) -> None:
    result, _ = await run(envelope(sections), {"a": ("app.info", {}), "b": ("app.info", {})})
    for outcome in result.values():
        assert isinstance(outcome, ResponseDecodeError)


async def test_a_non_object_error_entry_is_a_decode_error() -> None:
    body = envelope({"result": [], "result_error": {"a": "boom"}})
    result, _ = await run(body, {"a": ("app.info", {})})
    assert isinstance(result["a"], ResponseDecodeError)
    assert result["a"].body == b'"boom"'


async def test_a_non_json_answer_fails_every_command_of_that_request() -> None:
    result, _ = await run(b"<html>busy</html>", {"a": ("app.info", {}), "b": ("app.info", {})})
    first = result["a"]
    assert isinstance(first, ResponseDecodeError)
    assert first.method == "batch"
    assert first.body == b"<html>busy</html>"
    assert result["b"] is first
