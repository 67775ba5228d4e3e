"""Each public package's ``__all__`` is sorted, complete, and names where each name lives.

Complete: every public (non-underscore) name a package defines or re-exports is listed,
and every listed name resolves. Classes and functions report the package they are
imported from as their ``__module__`` (so tracebacks say
``bitrix_dialog.QueryLimitExceededError``), and pickle finds them there.
"""

from __future__ import annotations

import importlib
import pickle
import types
import typing

import pytest

import bitrix_dialog

PACKAGES = [
    "bitrix_dialog",
    "bitrix_dialog.abc",
    "bitrix_dialog.aiohttp",
    "bitrix_dialog.otel",
    "bitrix_dialog.redis",
    "bitrix_dialog.testing",
]


def _isort_key(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions: the order ruff's RUF022 keeps."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


def _public_names(module: types.ModuleType) -> set[str]:
    return {
        name
        for name in vars(module)
        if not name.startswith("_")
        and name != "annotations"  # from __future__ import annotations
        and not isinstance(getattr(module, name), types.ModuleType)
    }


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_lists_every_public_name(name: str) -> None:
    module = importlib.import_module(name)
    assert list(module.__all__) == sorted(module.__all__, key=_isort_key)
    assert len(set(module.__all__)) == len(module.__all__)
    assert set(module.__all__) == _public_names(module)


@pytest.mark.parametrize("name", PACKAGES)
def test_classes_and_functions_report_their_public_module(name: str) -> None:
    module = importlib.import_module(name)
    for member in module.__all__:
        value = getattr(module, member)
        if isinstance(value, type | types.FunctionType):
            assert value.__module__ == name, member
            assert getattr(importlib.import_module(value.__module__), value.__qualname__) is value


def test_each_name_has_one_public_home() -> None:
    homes: dict[str, list[str]] = {}
    for name in PACKAGES:
        for member in importlib.import_module(name).__all__:
            homes.setdefault(member, []).append(name)
    assert {member: where for member, where in homes.items() if len(where) > 1} == {}


@pytest.mark.parametrize("name", PACKAGES)
def test_type_hints_of_public_classes_still_resolve(name: str) -> None:
    module = importlib.import_module(name)
    unresolved: dict[str, str] = {}
    for member in module.__all__:
        value = getattr(module, member)
        if isinstance(value, type):
            try:
                typing.get_type_hints(value)
            except NameError as error:  # a string hint no longer finds its name
                unresolved[member] = str(error)
    assert unresolved == {}


def test_errors_pickle_and_keep_their_context() -> None:
    error = bitrix_dialog.QueryLimitExceededError(
        "slow down", status=503, method="im.dialog.get", body=b"{}"
    )
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is bitrix_dialog.QueryLimitExceededError
    assert (again.code, again.status, again.method, again.body, str(again)) == (
        error.code,
        503,
        "im.dialog.get",
        b"{}",
        str(error),
    )
    assert "bitrix_dialog.QueryLimitExceededError" in repr(type(again))


def test_models_pickle_and_keep_their_repr() -> None:
    dialog_id = bitrix_dialog.DialogId.chat(29)
    token = bitrix_dialog.OAuthToken(
        access_token="a-secret",
        refresh_token="r-secret",
        expires_at=1.0,
        member_id="m",
        client_endpoint="https://example.bitrix24.com/rest/",
    )
    for value in (dialog_id, token, bitrix_dialog.Timeout(connect=1.0, read=2.0)):
        assert pickle.loads(pickle.dumps(value)) == value
    assert repr(bitrix_dialog.Timeout(connect=1.0, read=2.0)) == "Timeout(connect=1.0, read=2.0)"
    assert "secret" not in repr(token)
    assert repr(token).startswith("OAuthToken(")


def test_timeouts_are_builtin_timeouts() -> None:
    assert issubclass(bitrix_dialog.RequestTimeoutError, TimeoutError)
    assert issubclass(bitrix_dialog.DeadlineExceededError, TimeoutError)
    assert issubclass(bitrix_dialog.RequestTimeoutError, bitrix_dialog.TransportError)
    error = pickle.loads(pickle.dumps(bitrix_dialog.RequestTimeoutError("late", method="m")))
    assert (str(error), error.method, error.errno) == ("m: TIMEOUT: late", "m", None)


def test_invalid_dialog_id_is_one_error_for_every_refusal() -> None:
    with pytest.raises(bitrix_dialog.InvalidDialogIdError) as caught:
        bitrix_dialog.DialogId.parse("chatx")
    error = caught.value
    assert isinstance(error, ValueError | TypeError | bitrix_dialog.BadRequestError)
    assert (error.code, error.value) == ("INVALID_DIALOG_ID", "chatx")
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), again.value, str(again)) == (type(error), "chatx", str(error))


def test_every_public_error_pickles_as_itself() -> None:
    errors = [
        value
        for name in bitrix_dialog.__all__
        if isinstance(value := getattr(bitrix_dialog, name), type)
        and issubclass(value, bitrix_dialog.BitrixError)
    ]
    assert len(errors) > 30
    for cls in errors:
        error = cls("went wrong", method="im.dialog.get", status=400)
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is cls
        assert (str(again), again.code, again.method) == (str(error), error.code, error.method)


def test_a_decoded_dialog_pickles_and_keeps_its_repr() -> None:
    dialog = bitrix_dialog.decode_dialog(
        {"id": 5, "name": "Support", "type": "chat", "date_create": "2024-01-02T03:04:05+03:00"},
        method="im.dialog.get",
    )
    again = pickle.loads(pickle.dumps(dialog))
    assert again == dialog
    assert repr(again) == repr(dialog)
    assert repr(dialog).startswith("Dialog(")
