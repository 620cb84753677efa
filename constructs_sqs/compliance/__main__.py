"""``python -m constructs_sqs.compliance``: see :func:`constructs_sqs.compliance.cli.main`."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
