"""Properties of ``DialogId``: it accepts exactly what the portal accepts, nothing else.

The oracle is the server's own check (``Bitrix\\Im\\Common::isDialogId``):
``^([0-9]+|(chat|sg|crm)[0-9]+)$``, case-insensitive, plus the SDK's rule that ids are
positive. Everything else is refused with ``InvalidDialogIdError`` before any request.
"""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitrix_dialog import Client, DialogId, InvalidDialogIdError

_SERVER = re.compile(r"([0-9]+|(chat|sg|crm)[0-9]+)", re.IGNORECASE | re.ASCII)
_FUZZ = settings(max_examples=100, deadline=None)

# Text near the accepted forms (where mistakes hide), and any text at all.
_NEAR = st.lists(
    st.sampled_from(
        [
            *("chat", "CHAT", "Chat", "sg", "SG", "crm", "cRm", "user", "c", "0", "1", "9", "007"),
            *(" ", "\n", "\t", "-", "+", "_", "."),
            # non-ASCII digits and letters that fold to ASCII ones: the portal's PCRE
            # pattern (no /u) takes none of them
            *("\u0663", "\uff11", "\u00b2", "\u0131", "\u212a"),
        ]
    ),
    max_size=4,
).map("".join)
_FORMS = st.builds(
    lambda prefix, digits: prefix + digits,
    st.sampled_from(["", "chat", "CHAT", "Sg", "crm", "CrM"]),
    st.from_regex(r"[0-9]{1,25}", fullmatch=True),
)


def _accepted_by_the_portal(text: str) -> bool:
    match = _SERVER.fullmatch(text)
    return match is not None and int(re.sub(r"^[a-zA-Z]+", "", text)) > 0


def _parsed(value: object, parameter: str = "dialog") -> DialogId | InvalidDialogIdError:
    try:
        return DialogId.parse(value, parameter=parameter)  # type: ignore[arg-type]
    except InvalidDialogIdError as error:
        return error


@_FUZZ
@given(text=_FORMS | _NEAR | st.text(max_size=12))
def test_accepts_exactly_the_positive_ids_the_portal_accepts(text: str) -> None:
    dialog_id = _parsed(text)
    assert isinstance(dialog_id, DialogId) == _accepted_by_the_portal(text)
    if isinstance(dialog_id, InvalidDialogIdError):
        assert dialog_id.description.startswith("dialog ")  # names the parameter
        assert isinstance(dialog_id, ValueError)
        assert isinstance(dialog_id, TypeError)
        return
    wire = str(dialog_id)
    # The wire form is canonical: lower-case prefix, no leading zeros, and the portal
    # reads it as the same dialog the caller named.
    assert _SERVER.fullmatch(wire)
    prefix = text.rstrip("0123456789").lower()
    assert wire == f"{prefix}{int(text[len(prefix) :])}"
    assert dialog_id.kind == (prefix or "user")


@_FUZZ
@given(text=_FORMS)
def test_a_parsed_id_round_trips_through_its_wire_form(text: str) -> None:
    dialog_id = _parsed(text)
    if isinstance(dialog_id, InvalidDialogIdError):
        assert int(text.lower().removeprefix("chat").removeprefix("sg").removeprefix("crm")) == 0
        return
    again = DialogId.parse(str(dialog_id))
    assert again == dialog_id
    assert hash(again) == hash(dialog_id)
    assert DialogId.parse(dialog_id) is dialog_id
    assert pickle.loads(pickle.dumps(dialog_id)) == dialog_id
    assert DialogId(text.upper()) == dialog_id  # case does not matter to the portal
    assert eval(repr(dialog_id), {"DialogId": DialogId}) == dialog_id


@_FUZZ
@given(number=st.integers())
def test_an_int_is_a_user_id_when_positive(number: int) -> None:
    dialog_id = _parsed(number)
    if number <= 0:
        assert isinstance(dialog_id, InvalidDialogIdError)
        assert "dialog must be a positive int" in str(dialog_id)
        return
    assert isinstance(dialog_id, DialogId)
    assert (dialog_id.kind, dialog_id.user_id, str(dialog_id)) == ("user", number, str(number))
    assert DialogId.parse(str(number)) == dialog_id


@_FUZZ
@given(
    value=st.none()
    | st.booleans()
    | st.floats()
    | st.binary(max_size=6)
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=2), st.integers(), max_size=1)
)
def test_anything_but_a_str_or_int_is_refused_naming_its_type(value: object) -> None:
    error = _parsed(value)
    assert isinstance(error, InvalidDialogIdError)
    assert error.description.startswith("dialog must be a dialog id")
    assert error.description.endswith(f"not {type(value).__name__}")


@_FUZZ
@given(value=_FORMS | _NEAR | st.text(max_size=12) | st.integers())
def test_a_lookup_sends_the_wire_form_of_its_id_or_refuses_it_as_parse_does(
    value: str | int,
) -> None:
    endpoint = Client("https://example.bitrix24.com/rest/1/x/").im.dialog.get
    expected = _parsed(value, "dialog_id")
    if isinstance(expected, InvalidDialogIdError):
        with pytest.raises(InvalidDialogIdError) as raised:
            endpoint.params(value)
        assert raised.value.description == expected.description
        return
    assert endpoint.params(value) == {"DIALOG_ID": str(expected)}
