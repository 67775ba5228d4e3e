"""``python -m bitrix_dialog``: the same as the ``bitrix-dialog`` command."""

from __future__ import annotations

from ._cli import main

raise SystemExit(main())
