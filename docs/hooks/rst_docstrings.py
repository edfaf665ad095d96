"""Griffe extension: qmtl's reStructuredText docstrings rendered as Markdown in the API reference.

qmtl's docstrings are reST (``:math:`...``` roles, ``.. math::`` blocks, ``:class:`` and
``:func:`` cross-references), as Python tooling reads them; mkdocstrings renders docstring
text as Markdown.  ``docstring_to_markdown`` (the converter behind python-lsp-server's hover
text) turns each reST docstring into Markdown before mkdocstrings parses it: maths becomes
``$...$`` and ``$$...$$``, which ``pymdownx.arithmatex`` hands to MathJax, and roles become
code spans.  A docstring that it does not recognise as reST is plain text already and is
left as it is.

Two touches around the converter: a ``~`` target (Sphinx's "show the last name only") is
shortened before conversion, and a fenced block that the converter leaves indented (which
Markdown would show as an indented code block, fences included) is dedented.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import docstring_to_markdown
import griffe


# ":class:`~qmtl.devices.spec.DeviceConfig`" reads as ":class:`DeviceConfig`" in Sphinx.
SHORTENED_ROLE_TARGET = re.compile(r"(:[a-z]+:`)~(?:[\w.]+\.)?")
INDENTED_FENCE = re.compile(r"^(?P<indent>[ \t]+)```[^\n]*\n.*?^(?P=indent)```[ \t]*$", re.MULTILINE | re.DOTALL)


def rst_to_markdown(docstring: str) -> str:
    """The Markdown form of a reST docstring; a docstring that is not reST comes back unchanged."""
    try:
        markdown = docstring_to_markdown.convert(SHORTENED_ROLE_TARGET.sub(r"\1", docstring))
    except docstring_to_markdown.UnknownFormatError:
        return docstring
    return INDENTED_FENCE.sub(lambda fence: textwrap.dedent(fence.group(0)), markdown)


class RstDocstringsToMarkdown(griffe.Extension):
    """Convert every loaded object's docstring from reST to Markdown, once, as it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
