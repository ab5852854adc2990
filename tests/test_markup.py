"""playground.markup: upstream text drawn as markdown never fetches an image, names render literally."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from playground import markup

URL = "http://127.0.0.1:9/p.png?leak=secret"


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


@pytest.mark.parametrize(
    "reply",
    [
        f"![x]({URL})",
        f"see ![x]({URL} 'title') here",
        f"![x][r]\n\n[r]: {URL}",
        "![x][]\n\n[x]: " + URL,
        "![x]\n\n[x]: " + URL,
        f"[![nested]({URL})](http://example.com)",
        f"> quoted ![x]({URL})",
        f"- item ![x]({URL})",
        f"\\\\![x]({URL})",  # an escaped backslash, then a real image
    ],
)
def test_every_image_form_becomes_text(reply):
    out = markup.text(reply)
    assert "![" not in out
    # Only backslashes are added (a reference's definition is shown too): the link stays readable.
    assert out.replace("\\[", "[") == reply
    assert URL in out


def test_ordinary_markdown_and_code_are_kept():
    reply = "**bold**, a [link](https://example.com), `vec![1]`\n\n```rust\nlet v = vec![1];\n```\n- one\n- two"
    out = markup.text(reply + f"\n\n![x]({URL})")
    assert out.startswith("**bold**, a [link](https://example.com), ")
    assert "```rust\nlet v = vec![1];\n```\n- one\n- two" in out  # the fenced block as written
    assert out.endswith(f"!\\[x]({URL})")
    assert markup.text("`vec![1]` and\n![x](u)") == "`vec![1]` and\n!\\[x](u)"


@pytest.mark.parametrize(
    "attack",
    [
        # A fence the line tracking does not follow (in a list item, indented, in a quote).
        f"- ```\n  ```\n![x]({URL})\n```",
        f"- a\n  ```\n![x]({URL})\n```",
        f" ```\ntext\n\n```\n![x]({URL})\n```",
        # Blocks that swallow a fence line: HTML, math, a definition's title, a directive, a table.
        f"<div>\n```\n\n![x]({URL})\n```",
        f"<!--\n```\n-->\n![x]({URL})\n```",
        f"$$\n```\n$$\n![x]({URL})\n```",
        f"[a]: /u '\n```\n'\n![x]({URL})\n```",
        f":::note\n```\n:::\n![x]({URL})\n```",
        f"| a |\n| - |\n```\n![x]({URL})\n```",
        # Line endings micromark knows that a naive split would miss, or one it does not know.
        f"```\n```\r![x]({URL})\n```",
        f"foo\x85```\n![x]({URL})\n```",
        # Backticks that are not code-span delimiters, or pair across lines.
        f"`a\n` ![x]({URL}) `b`",
        f'<span title="`">![x]({URL})`',
        f'[a](/u "`") ![x]({URL}) `"',
        f":x[`] ![x]({URL}) `",
        f"$`$ ![x]({URL}) `a`",
        f"| `x | ![x]({URL}) | ` |\n| - | - | - |",
    ],
)
def test_structures_that_could_hide_an_image_from_the_code_check_are_neutralised(attack):
    assert "![" not in markup.text(attack)


@given(st.text(alphabet="![]()`~<>$:|-\n\r x"))
def test_text_only_adds_backslashes_and_leaves_images_only_in_code(reply):
    out = markup.text(reply)
    assert out.replace("!\\[", "![") == reply.replace("!\\[", "![")
    if "![" in out:  # only kept in a document whose code the check could tell apart
        assert markup._pieces(reply) is not None


@given(st.lists(st.text(alphabet="![]()`x \n", max_size=6), max_size=12))
def test_a_stream_never_shows_an_image_whatever_the_chunks(chunks):
    shown = ""
    for piece in markup.stream(chunks):
        shown += piece
        assert "![" not in shown + "▌"  # what the browser holds after each chunk, cursor included
    assert shown == "".join(chunks).replace("![", "!\\[")


def test_stream_holds_a_trailing_bang_until_the_next_chunk():
    assert list(markup.stream(["Look!", "[x](u)", " done!"])) == ["Look", "!\\[x](u)", " done", "!"]


@given(st.text())
def test_literal_reads_back_as_written(value):
    out = markup.literal(value)
    assert unescape(out) == value
    # Nothing that opens inline syntax is left unescaped.
    bare = re.sub(r"(?<=[^\W_])_(?=[^\W_])", "", out.replace("\\\\", ""))  # an intraword _ is no emphasis
    assert not re.search(r"(?<!\\)[`*_\[\]<>|~$&!]", bare)


def test_literal_escapes_block_markers_at_line_starts_only():
    assert markup.literal("- a\n1. b\n==\n# h") == "\\- a\n1\\. b\n\\==\n\\# h"
    assert markup.literal("gpt-4.1-mini") == "gpt-4.1-mini"  # model ids stay readable in the raw text
    assert markup.literal("get_weather _x_") == "get_weather \\_x\\_"


@given(st.text())
def test_code_span_cannot_be_closed_from_inside(value):
    out = markup.code(value)
    if not value.strip() or "\n" in value or "\r" in value:
        return
    fence = re.match(r"`+", out).group()
    inner = out[len(fence) : -len(fence)]
    assert out.endswith(fence) and all(len(run) < len(fence) for run in re.findall(r"`+", inner))
    assert inner in (value, f" {value} ")


def test_code_of_a_hostile_name():
    name = f"x`![pwn]({URL})`y"
    assert markup.code(name) == f"``{name}``"
    assert markup.code("`a`") == "`` `a` ``"
    assert markup.code("a\n# ![x](u)") == "`a # ![x](u)`"  # a line break could have started a heading
