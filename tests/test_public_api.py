"""The public surface is exactly what ``bitrix_dialog.__all__`` lists, sorted."""

from __future__ import annotations

import bitrix_dialog
import bitrix_dialog.testing


def test_all_lists_every_public_name_sorted() -> None:
    public = {
        name
        for name in dir(bitrix_dialog)
        if not name.startswith("_")
        and name != "annotations"  # from __future__ import annotations
        and not isinstance(getattr(bitrix_dialog, name), type(bitrix_dialog))
    }
    assert set(bitrix_dialog.__all__) == public
    assert list(bitrix_dialog.__all__) == sorted(bitrix_dialog.__all__)


def test_testing_all_is_importable() -> None:
    for name in bitrix_dialog.testing.__all__:
        assert getattr(bitrix_dialog.testing, name) is not None
