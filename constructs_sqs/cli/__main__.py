"""``python -m constructs_sqs.cli``: the same as the ``constructs-sqs`` console script."""

from __future__ import annotations

from . import console_script

console_script()
