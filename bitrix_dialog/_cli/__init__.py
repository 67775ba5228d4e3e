"""The ``bitrix-dialog`` command line (also ``python -m bitrix_dialog``)."""

from __future__ import annotations

from ._main import main

__all__ = ["main"]
