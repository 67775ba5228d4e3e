"""A griffe extension: the docstrings' reST roles and literal-block markers, as Markdown.

The SDK's docstrings are written for ``help()`` and IDEs, in the reST habits of the
standard library (``:class:`Client```, a paragraph ending in ``::`` before an indented
example). mkdocstrings renders Markdown, so this turns a role into a code span and ``::``
into ``:`` before the docstrings are rendered; the indented example stays a code block.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const):`~?([^`]+)`")
_LITERAL = re.compile(r"(\S) ?::$", re.MULTILINE)


class RestToMarkdown(griffe.Extension):
    """Rewrite each object's docstring once, as it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            text = _ROLE.sub(lambda match: f"`{match[1]}`", obj.docstring.value)
            obj.docstring.value = _LITERAL.sub(r"\1:", text)
