"""What the documentation shows the library refusing is refused: every ```python block with a line
``# fails at synth: <message>`` (docs/producers.md, ...) fails at synth with that message,
with the sample app's feature flags. The blocks that synthesize are run by tests/tools/test_readme.py."""

from __future__ import annotations

import re
from pathlib import Path

import aws_cdk
import pytest
from docs_pages import FAILS_AT_SYNTH, all_blocks
from helpers import CDK_CONTEXT

REFUSED = [block for block in all_blocks("python") if FAILS_AT_SYNTH in block.code]


def test_the_producers_page_shows_what_is_refused() -> None:
    assert "docs/producers.md" in {block.page for block in REFUSED}


@pytest.mark.parametrize("block", REFUSED, ids=[block.name for block in REFUSED])
def test_a_refused_example_fails_at_synth_with_its_message(block, tmp_path: Path, monkeypatch) -> None:
    real_app = aws_cdk.App
    monkeypatch.setattr(
        aws_cdk, "App", lambda *a, **k: real_app(*a, **{**k, "outdir": str(tmp_path), "context": CDK_CONTEXT})
    )
    message = re.search(rf"{re.escape(FAILS_AT_SYNTH)}(.+)$", block.code, flags=re.MULTILINE)
    assert message is not None
    with pytest.raises(RuntimeError, match=re.escape(message.group(1))):
        exec(compile(block.code, block.name, "exec"), {})  # noqa: S102
