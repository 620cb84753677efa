"""``constructs-sqs``: the operator CLI for the queues and dead-letter queues of a deployed app.

Commands: ``send``, ``stats``, ``failed``, ``redrive``, ``purge`` and ``diagram``. The CLI formats and asks;
the work is done by the runtime helpers of :mod:`constructs_sqs_runtime` (``send_messages``, ``redrive``)
and by :mod:`constructs_sqs.cli.diagram`. It needs the ``cli`` extra (typer, rich, boto3):
``pip install 'constructs-sqs[cli]'``; without it, the console script says so and exits with status 1.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["CLI_PACKAGES", "main"]

CLI_PACKAGES = ("typer", "rich", "click", "boto3", "botocore")
"""What the CLI imports beyond the standard library; all come with the ``cli`` extra."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``constructs-sqs`` with ``argv`` (default: the process's arguments) and return the exit status.

    As the console script it exits with that status. Exit statuses: 0 done, 1 the operation failed
    (messages not sent or not moved, aborted), 2 bad usage or input, 3 unknown queue or stack,
    4 no credentials or region, 5 access denied, 6 throttled, 7 endpoint unreachable, 8 a redrive left
    messages it was asked to move in the DLQ (the output says how many and why).
    """
    try:
        from ._app import run
    except ModuleNotFoundError as error:
        missing = (error.name or "").split(".")[0]
        if missing not in CLI_PACKAGES:
            raise
        print(
            f"constructs-sqs: error: the CLI needs {missing}, which is not installed: "
            "pip install 'constructs-sqs[cli]'",
            file=sys.stderr,
        )
        return 1
    return run(list(sys.argv[1:] if argv is None else argv))


def console_script() -> None:
    """The ``constructs-sqs`` console script: :func:`main`, then exit with its status."""
    sys.exit(main())
