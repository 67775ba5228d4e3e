"""``app.info`` as the portal answers it (``api-reference/common/system/app-info.md``).

An app (OAuth) caller gets the application and the portal's licence; a webhook is
refused with HTTP 400 ``ACCESS_DENIED`` "Access denied! Application context
required", as the docs list. The licence is the portal's :attr:`FakePortal.license`
(``"de_ent250"``, ``"de_std"``, ...): ``LICENSE`` is it whole, ``LICENSE_TYPE`` the
part after the region prefix, ``LICENSE_FAMILY`` that type without its user count
(``ent250`` -> ``ent``, the family of every Enterprise plan).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import PortalError

if TYPE_CHECKING:
    from ._portal import CallContext

__all__ = ["app_info", "license_fields"]


def license_fields(license_name: str) -> dict[str, str]:
    """``LICENSE``, ``LICENSE_TYPE`` and ``LICENSE_FAMILY`` for a licence such as ``de_ent250``."""
    kind = license_name.split("_", 1)[-1]
    return {
        "LICENSE": license_name,
        "LICENSE_TYPE": kind,
        "LICENSE_FAMILY": kind.rstrip("0123456789"),
    }


async def app_info(context: CallContext) -> Any:
    """``app.info``: the app and the portal's licence, for app callers only."""
    if context.caller.kind != "oauth":
        raise PortalError(
            "ACCESS_DENIED", "Access denied! Application context required", status=400
        )
    license_name = context.portal.license
    language = license_name.split("_", 1)[0] if "_" in license_name else "en"
    return {
        "ID": 1,
        "CODE": "local.fake_app",
        "VERSION": 1,
        "STATUS": "L",
        "INSTALLED": True,
        "PAYMENT_EXPIRED": "N",
        "DAYS": None,
        "LANGUAGE_ID": language,
        **license_fields(license_name),
    }
