"""The text a reader sees in saved HTML, laid out in lines as a browser lays out its blocks, for the
line grammar of the page text."""

from __future__ import annotations

from selectolax.lexbor import LexborNode

from reviewpipe.sources.imdb_page.shared import SPACE

# Elements whose content is never shown; their text must not reach the line grammar.
_INVISIBLE = frozenset(
    {"script", "style", "noscript", "template", "svg", "head", "title", "iframe", "object"}
)
# Paragraph-like blocks get a blank line around them, as review paragraphs do in saved text.
_PARAGRAPHS = frozenset({"p", "blockquote", "pre", "hr", "table"})
_BLOCKS = _PARAGRAPHS | frozenset(
    "address article aside body dd details dialog div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hgroup li main nav ol section summary tr ul caption".split()
)


class _LineWriter:
    """Collects text the way a browser lays it out: blocks break lines, paragraphs leave a blank."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.buffer: list[str] = []
        self.gap = 0  # 1: the next text starts a line; 2: a blank line comes first

    def text(self, value: str) -> None:
        """Add inline text; whitespace runs count as one space, as in HTML."""
        value = SPACE.sub(" ", value)
        if not value.strip():
            if self.buffer:
                self.buffer.append(" ")
            return
        if self.gap == 2 and self.lines and self.lines[-1]:
            self.lines.append("")
        self.gap = 0
        self.buffer.append(value)

    def line_break(self) -> None:
        """End the current line (<br>); two in a row leave a blank line."""
        self.lines.append("".join(self.buffer).strip())
        self.buffer = []
        self.gap = 0

    def block(self, gap: int) -> None:
        """End the current line at a block's edge."""
        if line := "".join(self.buffer).strip():
            self.lines.append(line)
        self.buffer = []
        self.gap = max(self.gap, gap)

    def result(self) -> str:
        """The collected lines, with runs of blank lines as one and none at either end."""
        self.block(0)
        kept = [line for i, line in enumerate(self.lines) if line or (i and self.lines[i - 1])]
        return "\n".join(kept).strip("\n")


def visible_text(root: LexborNode) -> str:
    """The text a reader sees under root, one line per block and a blank line between paragraphs."""
    writer = _LineWriter()
    # An explicit stack rather than recursion: saved pages can nest deeper than Python's limit.
    stack: list[LexborNode | int] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, int):
            writer.block(item)
            continue
        if item.is_text_node:
            writer.text(item.text(deep=False))
            continue
        tag = item.tag
        if not item.is_element_node or tag in _INVISIBLE or "hidden" in item.attributes:
            continue
        if tag == "br":
            writer.line_break()
            continue
        gap = 2 if tag in _PARAGRAPHS else 1 if tag in _BLOCKS else 0
        if gap:
            writer.block(gap)
            stack.append(gap)
        stack.extend(reversed(list(item.iter(include_text=True))))
    return writer.result()


def flat_text(node: LexborNode) -> str | None:
    """The node's visible text on one line, or None when it shows none."""
    return SPACE.sub(" ", visible_text(node)).strip() or None
