"""One function per SQS record, correct ``batchItemFailures`` per batch, for standard and FIFO queues.

This module runs inside AWS Lambda. It imports only the standard library and Powertools for AWS Lambda
(Python), which reaches the function as AWS's published Powertools layer; it never imports aws_cdk.

The work is Powertools' batch utility (``BatchProcessor``, ``SqsFifoPartialProcessor``,
``process_partial_response``); what this module adds is the choice between them, made from the event
itself, so that a handler written for a standard queue cannot break the order of a FIFO queue.
"""

from __future__ import annotations

import functools
import inspect
import logging
from typing import TYPE_CHECKING, Any, overload

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = ["SqsBatchHandler", "is_fifo_event", "sqs_batch_handler"]

FIFO_SUFFIX = ".fifo"

_default_logger = logging.getLogger("constructs_sqs_runtime")


def is_fifo_event(event: Mapping[str, Any]) -> bool:
    """True when ``event`` comes from a FIFO queue.

    A record of a FIFO queue has an ``eventSourceARN`` ending in ``.fifo`` and a ``MessageGroupId``
    attribute; either one is enough.
    """
    for record in event.get("Records") or []:
        if str(record.get("eventSourceARN", "")).endswith(FIFO_SUFFIX):
            return True
        if "MessageGroupId" in (record.get("attributes") or {}):
            return True
    return False


class SqsBatchHandler:
    """A Lambda handler for SQS batches that calls ``record_handler`` once per record.

    Made by :func:`sqs_batch_handler`; call it as ``handler(event, context)``. The wrapped function is
    available as ``record_handler`` so that it can be unit-tested alone.
    """

    def __init__(
        self,
        record_handler: Callable[..., Any],
        *,
        fifo: bool | None,
        skip_group_on_error: bool,
        raise_on_entire_batch_failure: bool,
        model: Any | None,
        logger: logging.Logger | None,
    ) -> None:
        if fifo is False and skip_group_on_error:
            raise ValueError(
                "skip_group_on_error applies to FIFO queues only, got it with fifo=False: "
                "leave fifo unset (detected from each event) or pass fifo=True"
            )
        self.record_handler = record_handler
        self.fifo = fifo
        self.skip_group_on_error = skip_group_on_error
        self.raise_on_entire_batch_failure = raise_on_entire_batch_failure
        self.model = model
        self.logger = logger
        self._adapted = _adapt(record_handler)
        functools.update_wrapper(self, record_handler)

    def processor_for(self, event: Mapping[str, Any]) -> BatchProcessor:
        """The Powertools processor for ``event``: FIFO semantics when the queue is FIFO."""
        fifo = self.fifo if self.fifo is not None else is_fifo_event(event)
        processor: BatchProcessor
        if fifo:
            # Stops at the first failure and reports it and every later record (or, with
            # skip_group_on_error, every later record of the failed message group) so order is kept.
            processor = SqsFifoPartialProcessor(
                model=self.model, skip_group_on_error=self.skip_group_on_error, logger=self.logger
            )
            # The FIFO processor takes no such argument; the attribute is the base class's switch.
            processor.raise_on_entire_batch_failure = self.raise_on_entire_batch_failure
        else:
            processor = BatchProcessor(
                event_type=EventType.SQS,
                model=self.model,
                raise_on_entire_batch_failure=self.raise_on_entire_batch_failure,
                logger=self.logger,
            )
        return processor

    def __call__(self, event: dict[str, Any], context: LambdaContext | None = None) -> PartialItemFailureResponse:
        # A new processor per invocation: no state can leak from one batch into the next.
        return process_partial_response(
            event=event,
            record_handler=self._adapted,
            processor=self.processor_for(event),
            context=context,
        )


def _adapt(record_handler: Callable[..., Any]) -> Callable[..., Any]:
    """Powertools calls ``handler(record=...)``; let the record parameter have any name.

    Powertools passes ``lambda_context`` only to a callable that names it, so the adapter names it only
    when ``record_handler`` does; and only when the handler was called with a context, so the adapter's
    ``lambda_context`` defaults to None: a unit test calling ``handler(event, None)`` hands None on.
    """
    try:
        parameters = inspect.signature(record_handler).parameters
    except (TypeError, ValueError):  # a builtin or C callable: call it with the record alone
        parameters = {}  # type: ignore[assignment]
    if "lambda_context" in parameters:

        def with_context(record: Any, lambda_context: Any = None) -> Any:
            return record_handler(record, lambda_context=lambda_context)

        return with_context

    def without_context(record: Any) -> Any:
        return record_handler(record)

    return without_context


@overload
def sqs_batch_handler(
    record_handler: Callable[..., Any],
    *,
    fifo: bool | None = None,
    skip_group_on_error: bool = False,
    raise_on_entire_batch_failure: bool = True,
    model: Any | None = None,
    logger: logging.Logger | None = _default_logger,
) -> SqsBatchHandler: ...


@overload
def sqs_batch_handler(
    record_handler: None = None,
    *,
    fifo: bool | None = None,
    skip_group_on_error: bool = False,
    raise_on_entire_batch_failure: bool = True,
    model: Any | None = None,
    logger: logging.Logger | None = _default_logger,
) -> Callable[[Callable[..., Any]], SqsBatchHandler]: ...


def sqs_batch_handler(
    record_handler: Callable[..., Any] | None = None,
    *,
    fifo: bool | None = None,
    skip_group_on_error: bool = False,
    raise_on_entire_batch_failure: bool = True,
    model: Any | None = None,
    logger: logging.Logger | None = _default_logger,
) -> SqsBatchHandler | Callable[[Callable[..., Any]], SqsBatchHandler]:
    """Turn a function of one SQS record into a Lambda handler that reports partial batch failures.

    The handler returns ``{"batchItemFailures": [{"itemIdentifier": <messageId>}, ...]}`` listing the
    records whose ``record_handler`` raised; SQS deletes the others. The event source mapping must have
    ``ReportBatchItemFailures`` on (``LambdaTriggeredQueue`` sets it), or the response is ignored and a
    batch with any failure is retried whole.

    Parameters
    ----------
    record_handler:
        Called once per record with an ``SQSRecord`` (Powertools' data class: ``message_id``, ``body``,
        ``json_body``, ``attributes``, ...), or the parsed ``model`` when one is given. Add a
        ``lambda_context`` parameter to receive the Lambda context. Raise to fail the record; the return
        value is ignored. Omit it to use ``sqs_batch_handler(...)`` as a decorator. When the handler is
        called with ``None`` for its context (a unit test), ``lambda_context`` is None; pass
        :func:`constructs_sqs_runtime.testing.lambda_context` for a fake context instead.
    fifo:
        ``True``: FIFO semantics; ``False``: standard semantics. Default: - detected per event, FIFO when
        a record's ``eventSourceARN`` ends in ``.fifo`` or it has a ``MessageGroupId``. With FIFO
        semantics processing stops at the first failure, and that record and every later record are
        reported failed, so SQS delivers them again in order (Lambda docs, "partial batch responses").
    skip_group_on_error:
        FIFO only: after a failure, keep processing records of *other* message groups and report failed
        only the later records of the failed group. Default: False (the whole rest of the batch).
    raise_on_entire_batch_failure:
        When every record failed, raise ``BatchProcessingError`` instead of returning every record as
        failed. Either way the whole batch is delivered again; raising makes the invocation count in the
        function's ``Errors`` metric. Default: True (Powertools' default).
    model:
        A Powertools parser model (a subclass of ``SqsRecordModel``) to validate each record with; a
        record that does not validate is reported failed. Default: - no model, ``SQSRecord``.
    logger:
        Where a failed record's exception and traceback are logged, at WARNING. Default: - the standard
        logger ``constructs_sqs_runtime`` (Lambda's Python runtime sends WARNING to CloudWatch Logs); pass
        a Powertools ``Logger`` for structured logs, or None for no logging.

    Returns
    -------
    SqsBatchHandler
        The Lambda handler, ``handler(event, context) -> {"batchItemFailures": [...]}``; or, without
        ``record_handler``, a decorator that makes one.

    Raises
    ------
    ValueError
        When ``skip_group_on_error`` is given with ``fifo=False``.

    Example
    -------
    ::

        from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
        from constructs_sqs_runtime import sqs_batch_handler

        def fulfil(record: SQSRecord) -> None:
            order = record.json_body
            ...  # raise to have SQS deliver this record again

        handler = sqs_batch_handler(fulfil, skip_group_on_error=True)
    """
    make = functools.partial(
        SqsBatchHandler,
        fifo=fifo,
        skip_group_on_error=skip_group_on_error,
        raise_on_entire_batch_failure=raise_on_entire_batch_failure,
        model=model,
        logger=logger,
    )
    if record_handler is None:
        return make
    return make(record_handler)
