"""The local emulator: the sample app (or yours) deployed with the real CDK CLI into moto, on this machine.

Start, reset and stop the emulator (:class:`Emulator`), deploy a CDK app into it (:func:`deploy_app`),
and play its SQS event source mappings with the real handlers (:class:`LocalEventSourceRunner`).
The command line is ``python -m constructs_sqs.local``; ``make deploy-local``, ``make run-local`` and
``make stop-local`` call it. Needs the ``local`` extra: ``pip install 'constructs-sqs[local]'``.
"""

from __future__ import annotations

from .emulator import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_PORT,
    DEFAULT_REGION,
    DEFAULT_STATE_DIR,
    Emulator,
    EmulatorError,
    EmulatorProcess,
    find_free_port,
)

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_PORT",
    "DEFAULT_REGION",
    "DEFAULT_STATE_DIR",
    "Emulator",
    "EmulatorError",
    "EmulatorProcess",
    "find_free_port",
]
