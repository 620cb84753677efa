"""constructs-sqs runtime: the Lambda side of ``LambdaTriggeredQueue``.

Runs inside AWS Lambda (shipped as a layer by ``LambdaTriggeredQueue``); it imports only the standard
library and Powertools for AWS Lambda (Python), never aws_cdk. Write one function per record::

    from constructs_sqs_runtime import sqs_batch_handler

    def record_handler(record):
        ...  # raise to have SQS deliver this record again

    handler = sqs_batch_handler(record_handler)

Test it with the event factories of :mod:`constructs_sqs_runtime.testing`.
"""

from .batch import SqsBatchHandler, is_fifo_event, sqs_batch_handler

__all__ = ["SqsBatchHandler", "is_fifo_event", "sqs_batch_handler"]
