"""TeX math in Markdown, rendered to MathML when the site is built.

Lessons write math as Jupyter does, ``$...$`` inline and ``$$...$$`` on its
own. Browsers draw MathML themselves, so converting it at build time means
the site needs no MathJax or KaTeX script and no network to show formulas.
Code (fenced blocks and inline code spans) is left alone, and so is a ``$``
followed by a space or a digit after a space (a price, not math).
"""

from __future__ import annotations

import re

from latex2mathml.converter import convert

_CODE = re.compile(r"(^```.*?^```[ \t]*$|^~~~.*?^~~~[ \t]*$|`+[^`\n]*?`+)", re.M | re.S)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?![\s$])([^$\n]+?)(?<![\s\\])\$(?!\d)")


def _display(match: re.Match[str]) -> str:
    return "\n\n" + convert(match[1].strip(), display="block") + "\n\n"


def _inline(match: re.Match[str]) -> str:
    return convert(match[1])


def _math(text: str) -> str:
    return _INLINE.sub(_inline, _DISPLAY.sub(_display, text))


def render_math(markdown: str) -> str:
    """``markdown`` with every ``$...$`` and ``$$...$$`` outside code replaced by MathML."""
    pieces = _CODE.split(markdown)
    # split() with one group alternates: text, code, text, code, ...
    return "".join(piece if index % 2 else _math(piece) for index, piece in enumerate(pieces))
