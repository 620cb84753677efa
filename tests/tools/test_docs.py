"""The docs pages tell the truth: every ```python block of docs/producers.md and docs/nag-pack.md runs, with the
sample app's feature flags; a block ending in ``# fails at synth: <message>`` fails at synth with that message."""

from __future__ import annotations

import re
from pathlib import Path

import aws_cdk
import pytest
from helpers import CDK_CONTEXT, ROOT

PAGES = ["producers.md", "nag-pack.md"]
BLOCKS = [
    pytest.param(page, index, block, id=f"{page}-{index}")
    for page in PAGES
    for index, block in enumerate(re.findall(r"```python\n(.*?)```", (ROOT / "docs" / page).read_text(), flags=re.DOTALL))
]


def test_every_page_has_examples() -> None:
    assert {page for page, *_ in (p.values for p in BLOCKS)} == set(PAGES)


@pytest.mark.parametrize(("page", "index", "block"), BLOCKS)
def test_a_docs_example_runs(page: str, index: int, block: str, tmp_path: Path, monkeypatch) -> None:
    real_app = aws_cdk.App
    monkeypatch.setattr(aws_cdk, "App", lambda *a, **k: real_app(*a, **{**k, "outdir": str(tmp_path), "context": CDK_CONTEXT}))
    fails = re.search(r"# fails at synth: (.+)$", block, flags=re.MULTILINE)
    code = compile(block, f"docs/{page} python block {index}", "exec")
    if fails is None:
        exec(code, {})  # noqa: S102
        assert list(tmp_path.glob("*.template.json")), "the example must synthesize a stack"
    else:
        with pytest.raises(RuntimeError, match=re.escape(fails.group(1))):
            exec(code, {})  # noqa: S102
