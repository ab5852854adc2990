"""Upstream text made safe to draw as Streamlit markdown.

Two kinds of strings reach the pages from upstream (the model, tools, files, other people's titles):

- text meant as markdown (a reply, a tool's output): `text()` keeps its markdown but turns every
  image into plain text showing its link, so the browser never fetches what the model named
  (`![x](https://host/p.png?leak=…)` would otherwise leak whatever the URL carries). `stream()` does
  the same to a reply arriving chunk by chunk.
- a plain string (a name, a title, a model id, an error): `literal()` escapes it so it renders as
  written, and `code()` wraps it in a code span no content can break out of.

Every image in CommonMark and GFM starts with an unescaped `![` (inline `![a](u)`, reference
`![a][r]`, `![a][]`, `![a]`); raw HTML such as `<img>` is shown as text by `st.markdown` without
`unsafe_allow_html`, and KaTeX runs untrusted (no `\\includegraphics`). So no `![` may reach the
renderer outside code: it becomes `!\\[`, which shows the same characters and is never an image.

Inside code (a fenced block, a code span) `![` is literal and common (`vec![1]`), and a backslash
there would show. Telling code from text exactly needs a full markdown parser that agrees with the
browser's; a wrong guess that way would let an image through. So code is kept as written only where
the structure is unambiguous (fences opened at column 0, code spans on one line, no HTML, math,
link resources, directives, tables or definitions around them); in any other document every `![` is
neutralised, code included. Safety never depends on the guess; only how code looks does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_LINE_END = re.compile(r"(\r\n|\r|\n)")  # exactly the line endings micromark knows
_OPEN_BACKTICKS = re.compile(r"(`{3,})[^`]*")
_OPEN_TILDES = re.compile(r"(~{3,}).*", re.DOTALL)
_CLOSE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")
# Lines that may open a block the fence tracking does not follow (HTML, math, directives, tables,
# definitions): their presence makes the whole document neutralised.
_HTML_START = re.compile(r"[\s>*+\-\d.)]*<")
_DIRECTIVE_START = re.compile(r"[\s>*+\-\d.)]*::")
_TABLE_DELIMITER = re.compile(r"[\s>|:\-*+\d.)]*")
# Constructs whose raw content may hold a backtick that is not a code-span delimiter.
_RAW_INLINE = re.compile(r"[<$]|://|www\.|\][({]|:[A-Za-z][\w-]*[\[{]")
_DEFINITION = re.compile(r"^([ \t>]*)\[(?=[^\]\n]*\]:)", re.MULTILINE)
_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _neutralise(text: str) -> str:
    return text.replace("![", "!\\[")


def text(markdown: str) -> str:
    """Markdown from upstream, with every image shown as its source text (link included) instead of
    being fetched. Everything else (bold, lists, code, links, tables) is kept."""
    if "![" not in markdown:
        return markdown
    pieces = _pieces(markdown)
    if pieces is None:
        # A reference image's link sits in a definition, which markdown hides: show those as text too.
        return _neutralise(_DEFINITION.sub(r"\1\\[", markdown))
    return "".join(piece if is_code else _neutralise(piece) for piece, is_code in pieces)


def _pieces(markdown: str) -> list[tuple[str, bool]] | None:
    """The document split into (piece, is_code), or None when its structure is not simple enough
    to be sure what is code."""
    parts = _LINE_END.split(markdown)
    pieces: list[tuple[str, bool]] = []
    fence: tuple[str, int] | None = None
    spans_ok = True
    for n in range(0, len(parts), 2):
        line = parts[n]
        end = parts[n + 1] if n + 1 < len(parts) else ""
        if fence is not None:
            close = _CLOSE.fullmatch(line)
            if close and close.group(1)[0] == fence[0] and len(close.group(1)) >= fence[1]:
                fence = None
            pieces.append((line + end, True))
            continue
        opened = _OPEN_BACKTICKS.fullmatch(line) or _OPEN_TILDES.fullmatch(line)
        if opened:  # only at column 0: such a line is a fence whatever container came before
            fence = (opened.group(1)[0], len(opened.group(1)))
            pieces.append((line + end, True))
            continue
        if (
            "```" in line
            or "~~~" in line
            or "$$" in line
            or "]:" in line
            or _HTML_START.match(line)
            or _DIRECTIVE_START.match(line)
            or ("|" in line and "-" in line and _TABLE_DELIMITER.fullmatch(line))
        ):
            return None
        if spans_ok and "`" in line:
            spans = None if _RAW_INLINE.search(line) else _code_spans(line)
            if spans is None:
                spans_ok = False  # from here on a backtick may pair across lines or hide in a construct
            else:
                at = 0
                for start, stop in spans:
                    pieces += [(line[at:start], False), (line[start:stop], True)]
                    at = stop
                pieces.append((line[at:] + end, False))
                continue
        pieces.append((line + end, False))
    return pieces


def _code_spans(line: str) -> list[tuple[int, int]] | None:
    """(start, stop) of each code span on the line, delimiters included; None when a backtick run
    has no partner on the line (it might pair with one on the next line)."""
    spans = []
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if ch == "\\" and i + 1 < n and line[i + 1] in _PUNCT:
            i += 2
            continue
        if ch != "`":
            i += 1
            continue
        j = i
        while j < n and line[j] == "`":
            j += 1
        k, stop = j, None
        while k < n:
            if line[k] != "`":
                k += 1
                continue
            m = k
            while m < n and line[m] == "`":
                m += 1
            if m - k == j - i:
                stop = m
                break
            k = m
        if stop is None:
            return None
        spans.append((i, stop))
        i = stop
    return spans


def stream(chunks: Iterable[str]) -> Iterator[str]:
    """A streamed reply with every image neutralised as it arrives, at a cost of one `replace` per
    chunk. A chunk ending in `!` keeps it back until the next chunk shows whether `[` follows.

    Code is not told apart here (a half-received document cannot be): a `![` inside code shows a
    backslash while it streams, and the reply is drawn again with `text()` once it is complete."""
    held = ""
    for chunk in chunks:
        if not chunk:
            continue
        out = _neutralise(held + chunk)
        held = "!" if out.endswith("!") else ""
        if held:
            out = out[:-1]
        if out:
            yield out
    if held:
        yield held


# Always escaped: these open inline syntax anywhere in a line (emphasis, code, links, images, HTML,
# entities, math, strikethrough, tables, directives).
_ESCAPE_ALWAYS = set("\\`*_{}[]<>#|~$&!")
_LINE_START = re.compile(r"^([ \t]*)([-+=]|\d+[.)])", re.MULTILINE)


def literal(value: object) -> str:
    """A plain string (a name, a title, a model id, error text) escaped so markdown shows it as
    written: no emphasis, links, images, HTML, math, headings or lists can come out of it."""
    text = str(value)
    escaped = "".join(
        "\\" + ch if ch in _ESCAPE_ALWAYS and not _intraword_underscore(text, i) else ch for i, ch in enumerate(text)
    )
    # Block syntax only counts at the start of a line (lists, headings, quotes, setext underlines).
    return _LINE_START.sub(_escape_marker, escaped)


def _intraword_underscore(text: str, i: int) -> bool:
    # `_` between two letters or digits can neither open nor close emphasis: `get_weather` stays as is.
    return text[i] == "_" and 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()


def _escape_marker(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    return indent + marker[:-1] + "\\" + marker[-1]  # `1.` → `1\.`, `-` → `\-`


def code(value: object) -> str:
    """A plain string as an inline code span that nothing inside can close early: the fence is one
    backtick longer than any run inside, and line breaks (which could start a block) become spaces."""
    flat = re.sub(r"\r\n|\r|\n", " ", str(value))
    if not flat.strip():
        return literal(flat)
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"
