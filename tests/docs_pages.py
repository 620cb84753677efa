"""The user documentation as the tests read it: README.md and the pages of docs/, their fenced code blocks
with language and title, and the files of a user's project that titled blocks define.

Conventions (CONTRIBUTING.md, "Documentation"):

- ```` ```python ````: a CDK app, or a test of one, that runs and synthesizes; a paragraph starting with
  ``Compliance:`` right after it names each finding of the gates it leaves. A block whose code has a line
  ``# fails at synth: <message>`` shows what the library refuses: it must fail at synth with that message
  (tests/tools/test_docs_examples.py).
- ```` ```py title="handlers/orders.py" ````, ```` ```json title="cdk.json" ````: a file of the user's project.
  A ``tests/test_*.py`` file is a test of it.
- ```` ```bash ````: a shell recipe, run as written in a user's project; ``title="needs an AWS account"`` or
  ``title="in a checkout of constructs-sqs"`` when it cannot run there.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from helpers import ROOT

DOCS = ROOT / "docs"
NEEDS_AWS = "needs an AWS account"
IN_A_CHECKOUT = "in a checkout of constructs-sqs"
FAILS_AT_SYNTH = "# fails at synth: "

_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<language>[A-Za-z0-9_+-]*)(?P<attributes>[^\n`]*)\n(?P<code>.*?)^(?P=indent)```[ \t]*$",
    flags=re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: str  # relative to the repository: README.md, docs/getting-started.md
    index: int  # its position among the page's blocks
    language: str
    title: str | None
    code: str
    end: int  # offset of the end of the fence in the page's text

    @property
    def name(self) -> str:
        return f"{self.page}#{self.index}" + (f" ({self.title})" if self.title else "")

    def following_text(self) -> str:
        """The page's text after this block, up to the next fenced block."""
        rest = page_text(self.page)[self.end :]
        following = _FENCE.search(rest)
        return rest[: following.start()] if following else rest


def user_pages() -> list[str]:
    """README.md and every page of docs/ written by hand (the API reference is generated)."""
    pages = ["README.md"]
    pages += sorted(str(p.relative_to(ROOT)) for p in DOCS.rglob("*.md") if "api" not in p.relative_to(DOCS).parts)
    return pages


@cache
def page_text(page: str) -> str:
    return (ROOT / page).read_text(encoding="utf-8")


@cache
def blocks_of(page: str) -> tuple[Block, ...]:
    blocks = []
    for index, match in enumerate(_FENCE.finditer(page_text(page))):
        title = re.search(r'title="([^"]*)"', match["attributes"])
        code = textwrap.dedent(match["code"]) if match["indent"] else match["code"]
        blocks.append(Block(page, index, match["language"], title[1] if title else None, code, match.end()))
    return tuple(blocks)


def all_blocks(*languages: str) -> list[Block]:
    return [b for page in user_pages() for b in blocks_of(page) if not languages or b.language in languages]


def section(page: str, heading: str) -> str:
    """The text of ``heading`` (a whole heading line, e.g. "## Default settings") up to the next heading of
    the same or a higher level."""
    text = page_text(page)
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    ends = [text.find(f"\n{'#' * n} ", start) for n in range(1, level + 1)]
    ends = [end for end in ends if end != -1]
    return text[start : min(ends)] if ends else text[start:]


def project_files() -> dict[str, str]:
    """The files of the user's project that titled blocks define (path -> content). A path shown on
    several pages must have the same content everywhere."""
    files: dict[str, str] = {}
    for block in all_blocks():
        if block.title is None or "/" not in block.title and "." not in block.title or " " in block.title:
            continue
        known = files.setdefault(block.title, block.code)
        assert known == block.code, f"{block.name} differs from another page's {block.title}"
    return files
