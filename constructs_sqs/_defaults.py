"""Every default of constructs-sqs, as a named value with the reason it was chosen.

The README's "Default settings" table is written from this module; a test checks that the two agree.
Precedence, everywhere in the library: what a pattern must set > what the caller passes > these defaults.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_sqs as sqs

# --- Dead-letter queues -------------------------------------------------------------------------

MAX_RECEIVE_COUNT = 5
"""Receives before a message moves to the DLQ. Lambda counts throttled deliveries as receives, so
fewer than 5 sends healthy messages to the DLQ under load (Lambda docs, "Using Lambda with SQS")."""

RETENTION_PERIOD = Duration.days(4)
"""Source queue retention: the SQS default, long enough to ride out a weekend outage of a consumer."""

DEAD_LETTER_RETENTION_PERIOD = Duration.days(14)
"""DLQ retention: the SQS maximum. A standard queue's message keeps its original enqueue time when it
moves to the DLQ, so the DLQ must keep messages longer than the source or they expire early."""

DEAD_LETTER_REMOVAL_POLICY = RemovalPolicy.RETAIN
"""A DLQ holds the evidence of failures; deleting the stack must not delete it by accident."""

REMOVAL_POLICY = RemovalPolicy.DESTROY
"""Source queue removal policy: aws-cdk-lib's default for queues. Pass RETAIN to keep it."""

# --- Transport and encryption --------------------------------------------------------------------

ENFORCE_SSL = True
"""TLS-only queue policy on queue and DLQ (cdk-nag AwsSolutions-SQS4, Security Hub SQS.1)."""

ENCRYPTION = sqs.QueueEncryption.SQS_MANAGED
"""FifoQueueWithDlq: SSE-SQS, written explicitly into the template (Security Hub SQS.1). It costs
nothing, needs no key policy, and works with SNS and EventBridge publishers."""

KEY_ROTATION = True
"""EncryptedQueue creates its key with yearly automatic rotation (AwsSolutions-KMS5, CKV_AWS_7)."""

KEY_PENDING_WINDOW = Duration.days(30)
"""When a created key is destroyed with its stack, KMS waits this long before deleting it, the
maximum: messages still encrypted with it stay readable until then."""

DATA_KEY_REUSE = Duration.minutes(5)
"""How long SQS reuses a data key before calling KMS again: the SQS default, a balance of KMS cost
and key exposure."""

# --- Receiving -----------------------------------------------------------------------------------

VISIBILITY_TIMEOUT = Duration.seconds(30)
"""The SQS default. A Lambda consumer derives its own (6 x function timeout + batching window)."""

RECEIVE_MESSAGE_WAIT_TIME = Duration.seconds(20)
"""Long polling at the maximum: fewer empty receives, lower cost, no false empty responses."""

DELIVERY_DELAY = Duration.seconds(0)
"""Messages are deliverable at once, as in SQS."""

MAX_MESSAGE_SIZE_BYTES = 1_048_576
"""The SQS maximum, 1 MiB: a smaller limit only turns large messages into producer errors."""

# --- FIFO ----------------------------------------------------------------------------------------

CONTENT_BASED_DEDUPLICATION = False
"""Producers send a MessageDeduplicationId, as SQS expects; turn on when bodies are unique."""

HIGH_THROUGHPUT = False
"""Per-queue deduplication and throughput, the SQS default; high throughput is a choice per workload."""

# --- Names ---------------------------------------------------------------------------------------

GENERATED_NAME_MAX_LENGTH = 75
"""Generated queue names leave room for the 5 characters of `.fifo` within the 80 allowed."""

