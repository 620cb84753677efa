"""constructs-sqs: AWS CDK v2 constructs for Amazon SQS, secure and loss-free by default.

Import the patterns from here::

    from constructs_sqs import FifoQueueWithDlq, EncryptedQueue
"""

from ._queue_base import ImportedQueueWithDlq, QueueWithDlqBase
from ._validation import ConfigurationError
from .encrypted_queue import EncryptedQueue
from .fifo_queue_with_dlq import FifoQueueWithDlq

__all__ = [
    "ConfigurationError",
    "EncryptedQueue",
    "FifoQueueWithDlq",
    "ImportedQueueWithDlq",
    "QueueWithDlqBase",
]
