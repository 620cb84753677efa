"""Every default of constructs-sqs, as a named value with the reason it was chosen.

The documentation's "Default settings" table (docs/patterns/index.md) is written from this module; a test checks that the two agree.
Precedence, everywhere in the library: what a pattern must set > what the caller passes > these defaults.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs

from . import _limits

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

MAX_MESSAGE_SIZE_BYTES = _limits.MAX_MESSAGE_SIZE.maximum
"""The SQS maximum, 1 MiB: a smaller limit only turns large messages into producer errors."""

# --- FIFO ----------------------------------------------------------------------------------------

CONTENT_BASED_DEDUPLICATION = False
"""Producers send a MessageDeduplicationId, as SQS expects; turn on when bodies are unique."""

HIGH_THROUGHPUT = False
"""Per-queue deduplication and throughput, the SQS default; high throughput is a choice per workload."""

# --- Names ---------------------------------------------------------------------------------------

GENERATED_NAME_MAX_LENGTH = _limits.QUEUE_NAME_MAX_LENGTH - len(".fifo")
"""Generated queue names leave room for the 5 characters of `.fifo` within the 80 allowed."""


# --- Lambda consumers ----------------------------------------------------------------------------

LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_14
"""LambdaTriggeredQueue builds its function on the newest Python runtime of aws-cdk-lib 2.275, for which
AWS publishes a Powertools layer (python314): cdk-nag AwsSolutions-L1 flags any older runtime."""

LAMBDA_ARCHITECTURE = lambda_.Architecture.X86_64
"""Lambda's own default: code and native wheels bundled on a usual x86 CI machine run unchanged. Pass
``Architecture.ARM_64`` for Graviton's lower price once the bundle is built for it."""

LAMBDA_TIMEOUT = Duration.seconds(30)
"""Lambda's 3 s default is too short for a batch that calls other services (cdk-nag
Serverless-LambdaDefaultTimeout); 30 s gives a derived visibility timeout of 3 minutes, so the messages
of a failed batch are delivered again within minutes."""

LAMBDA_MEMORY_SIZE = 256
"""MB. CPU grows with memory; 256 MB imports Powertools and parses JSON batches without the slow cold
starts of Lambda's 128 MB default (cdk-nag Serverless-LambdaDefaultMemorySize)."""

LAMBDA_LOG_RETENTION = logs.RetentionDays.ONE_MONTH
"""The consumer's log group keeps a month of logs: long enough to investigate a DLQ alarm raised over a
holiday, bounded in cost, where CloudWatch Logs' default keeps logs forever."""

LAMBDA_LOG_REMOVAL_POLICY = RemovalPolicy.RETAIN
"""Logs are the evidence of why messages reached the DLQ (kept like the DLQ itself); retention still
expires them after a month."""

LAMBDA_TRACING = lambda_.Tracing.ACTIVE
"""X-Ray traces show where a failing batch spent its time (cdk-nag Serverless-LambdaTracing); the cost is
per sampled trace. Pass ``tracing=lambda_.Tracing.DISABLED`` to turn it off."""

VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT = 6
"""The queue's visibility timeout is derived as 6 x the function timeout + the maximum batching window,
as the Lambda docs advise: a batch can be retried while throttled without its messages becoming visible
again and being processed twice (constructs-sqs rule L1)."""

REPORT_BATCH_ITEM_FAILURES = True
"""The event source mapping reports partial batch failures: only the failed messages of a batch are
delivered again, not the whole batch (constructs-sqs rule L2). The handler helper returns ``batchItemFailures``."""

SQS_MINIMUM_POLLERS = 2
"""Lambda's own minimum of provisioned event pollers for an SQS event source, used when
``provisioned_poller_config`` leaves it unset (Lambda API, ProvisionedPollerConfig)."""

SQS_MAXIMUM_POLLERS = 200
"""Lambda's own maximum of provisioned event pollers for an SQS event source when left unset."""

CONSUMER_MIN_MAX_RECEIVE_COUNT = 5
"""With a Lambda consumer, a max_receive_count below 5 draws a warning: throttled deliveries count as
receives, so healthy messages reach the DLQ under load (constructs-sqs rule Q7)."""

POWERTOOLS_LAYER_VERSION = 27
"""Version of AWS's published layer ``AWSLambdaPowertoolsPythonV3-<runtime>-<arch>``, which provides the
Powertools batch utility the handler helper is built on. A fixed version keeps deploys reproducible;
raise it deliberately (``powertools_layer_version=``)."""

POWERTOOLS_LAYER_ACCOUNT = "017000801446"
"""The AWS account that publishes the Powertools for AWS Lambda (Python) layers in the commercial
regions. Other partitions (aws-cn, aws-us-gov) publish from other accounts: pass ``powertools_layer=``."""

# --- Alarms --------------------------------------------------------------------------------------

ALARM_PERIOD = Duration.minutes(5)
"""Period of every QueueAlarms metric. SQS publishes queue metrics once a minute; the Maximum over 5
minutes smooths single-sample noise and still pages within minutes of a problem."""

ALARM_DEPTH_THRESHOLD = 1_000
"""Visible messages above which the backlog alarm fires: far above the few messages a healthy
consumer leaves waiting, well below a backlog that takes hours to drain. Tune it per workload."""

ALARM_DEPTH_EVALUATION_PERIODS = 3
"""The backlog must stay above the threshold for 3 periods (15 minutes) in a row: a burst that the
consumers drain quickly is normal traffic, not an incident."""

ALARM_AGE_RETENTION_FRACTION = 0.5
"""The age alarm fires when the oldest message has used this fraction of the retention period: with
the default 4 days, at 2 days, leaving on-call the other 2 days to fix consumers before SQS deletes
the messages (constructs-sqs rule A4)."""

ALARM_ASSUMED_RETENTION_PERIOD = Duration.days(4)
"""Retention assumed when it cannot be read (an imported queue): the SQS default. QueueAlarms warns
when it assumes it; pass retention_period or age_threshold to replace the assumption."""

ALARM_IN_FLIGHT_QUOTA_FRACTION = 0.8
"""The in-flight alarm fires at 80 % of the SQS in-flight quota: room to act before receives fail
(standard queues: OverLimit) or stall (FIFO queues return no messages and no error)."""

ALARM_CONSUMER_ERRORS_THRESHOLD = 1
"""Errors of a Lambda consumer per period that count as failing: with partial batch responses (L2) a
handled message failure is no error, so any thrown error means a whole batch failed."""

ALARM_CONSUMER_THROTTLES_THRESHOLD = 1
"""Throttles of a Lambda consumer per period that count as failing: a throttled delivery counts as a
receive and moves healthy messages toward the DLQ (Q7, L4)."""

ALARM_CONSUMER_EVALUATION_PERIODS = 3
"""Consumer alarms look at the last 3 periods (15 minutes), see ALARM_CONSUMER_DATAPOINTS_TO_ALARM."""

ALARM_CONSUMER_DATAPOINTS_TO_ALARM = 2
"""Consumer alarms fire when 2 of the last 3 periods breach: one transient timeout does not page,
errors or throttles that persist do."""

ALARM_NOTIFY_OK = True
"""Alarms notify the topic when they return to OK too, so on-call learns that an incident ended."""

ALARM_TOPIC_KEY_REMOVAL_POLICY = RemovalPolicy.DESTROY
"""The created alarm topic's key is deleted with its stack (after the 30-day pending window): SNS
keeps no messages at rest, so nothing encrypted with it outlives the topic; a retained key would cost
$1 a month forever."""

ALARM_NAME_PREFIX_MAX_LENGTH = 64
"""Length limit of the generated alarm name prefix: short enough to read in a notification subject,
with room for the longest suffix within CloudWatch's 255 characters."""

ALARM_CREATE_DASHBOARD = True
"""QueueAlarms creates a CloudWatch dashboard of the queue unless given one or told not to: the
graphs on-call needs when an alarm fires."""

ALARM_DEAD_LETTER_AGE_RETENTION_FRACTION = 0.5
"""The DLQ-age alarm fires when the oldest dead letter has used this fraction of the DLQ's retention
period: with the default 14 days, at 7 days, so on-call redrives or inspects it before SQS deletes the
evidence. The DLQ alarm fires on the first dead letter; this one fires when it was left there."""

ALARM_ASSUMED_DEAD_LETTER_RETENTION_PERIOD = Duration.days(4)
"""DLQ retention assumed when it cannot be read (an imported DLQ): the SQS default, the shortest a DLQ
is likely to keep messages, so the DLQ-age alarm fires early rather than late. QueueAlarms warns when it
assumes it; pass dead_letter_retention_period."""

ALARM_TIME_TO_DRAIN_RETENTION_FRACTION = 0.25
"""The time-to-drain alarm fires when the backlog would take longer than this fraction of the retention
period to drain at the current deletion rate: with the default 4 days, at 1 day. A backlog that cannot
drain before its messages expire pages long before they do, while the age alarm still has days to go."""

ALARM_TIME_TO_DRAIN_EVALUATION_PERIODS = 3
"""Time to drain must stay above its threshold for 3 periods (15 minutes): the deletion rate of a single
period is noisy, a burst right after a quiet period is not an incident."""

ALARM_INCOMING_PERIOD = Duration.hours(1)
"""Period of the opt-in silent-producer alarm: NumberOfMessagesSent summed per hour, long enough that a
queue that should always receive traffic does not page in a quiet minute."""

ALARM_INCOMING_EVALUATION_PERIODS = 1
"""The silent-producer alarm fires after one period (one hour by default) with fewer messages than
``min_incoming_messages``; raise it to wait for several periods in a row."""


# --- ECS Fargate workers (QueueWorkerService) ------------------------------------------------------

WORKER_CPU = 256
"""CPU units of a worker task: Fargate's smallest size. A queue worker mostly waits on I/O; raise it (with
``memory_limit_mib``) for CPU-bound jobs such as transcoding."""

WORKER_MEMORY_LIMIT_MIB = 512
"""MiB of a worker task: the smallest Fargate allows with 256 CPU units."""

WORKER_MIN_TASKS = 0
"""No task runs while the queue is empty: a worker costs nothing when idle, and the scale-from-zero policy
starts one on the first visible message."""

WORKER_MAX_TASKS = 10
"""A bound on the cost of a backlog spike, and on the load the workers put on what they call."""

WORKER_JOB_MAX_DURATION = Duration.minutes(15)
"""The longest one message may take: Lambda's ceiling, below which a Lambda consumer is usually simpler."""

WORKER_ACCEPTABLE_LATENCY = Duration.minutes(15)
"""How long a message may wait for a worker: with the default job duration, a target of one message per
handler thread, so every waiting message gets a worker (up to ``max_tasks``)."""

WORKER_CONCURRENCY = 1
"""Handler threads per task: one job at a time, as a CPU-bound job (transcoding) needs; raise it for I/O-bound
handlers."""

WORKER_STOP_TIMEOUT = Duration.seconds(120)
"""Fargate's maximum: the longest ECS waits between SIGTERM and SIGKILL, the most time the worker gets to
finish the jobs it holds when a task is stopped (deployments, Spot interruptions, which warn 2 minutes ahead)."""

WORKER_DRAIN_MARGIN = Duration.seconds(10)
"""Of the stop timeout, what the worker keeps back after its drain to give unfinished messages back and log
that it stopped: drain seconds = stop timeout - 10 s."""

WORKER_HEARTBEAT_VISIBILITY = Duration.minutes(5)
"""The longest a received message stays invisible before the worker's first heartbeat extends it (jobs
shorter than this get their job duration, at least SQS's default 30 seconds): a message held by a task that died comes back within minutes,
while heartbeats every half of it keep a long job's message hidden (constructs-sqs rule R2)."""

WORKER_PROTECTION_MARGIN_MINUTES = 1
"""Task scale-in protection is asked for the job's maximum duration plus a minute, and renewed while messages
are held: a worker that stops renewing (hung) loses its protection soon after its longest job."""

WORKER_SCALE_OUT_COOLDOWN = Duration.seconds(60)
"""Target tracking waits a minute between scale-outs: the metrics (one a minute) see the tasks just started."""

WORKER_SCALE_IN_COOLDOWN = Duration.seconds(300)
"""Target tracking waits 5 minutes between scale-ins: a lull between bursts does not stop and restart tasks.
Scale-in only ever stops tasks that hold no message (task scale-in protection)."""

WORKER_LOG_RETENTION = logs.RetentionDays.ONE_MONTH
"""The worker's log group keeps a month of logs, as a Lambda consumer's does."""

WORKER_FLOW_LOG_RETENTION = logs.RetentionDays.ONE_MONTH
"""Flow logs of the VPC a worker service creates keep a month (cdk-nag VPC7 wants flow logs)."""

WORKER_ALARM_EVALUATION_PERIODS = 3
"""The service alarms (no running task while messages wait; tasks not starting) fire after 3 periods of 5
minutes: starting from zero takes a minute or two, a pull of a large image a few more."""

WORKER_SCALE_FROM_ZERO_PERIOD = Duration.minutes(1)
"""Period of the alarm that starts the first task: SQS publishes its metrics once a minute."""

# --- Compliance acknowledgments ------------------------------------------------------------------
# cdk-nag findings that an AWS behaviour makes inapplicable, as (rule id, reason), grouped by the construct
# that acknowledges them (``_queue_base.acknowledge``). Only the findings of the rules page's last section
# belong here; a finding that has a fix is fixed instead. Each id carries its pack's namespace
# (``Pack::Rule``), so CDK records the acknowledgment and its reason in validation-report.json, where
# ``constructs_sqs.compliance`` counts it; a bare id would make cdk-nag drop the finding without a trace.
# The documentation's "Compliance gates" table lists these tuples; a test keeps the two in step.

DEAD_LETTER_QUEUE_ACKNOWLEDGMENTS: tuple[tuple[str, str], ...] = (
    (
        "Serverless::Serverless-SQSRedrivePolicy",
        "This queue is a dead-letter queue: SQS moves a message here after maxReceiveCount failed receives, "
        "and a DLQ has no DLQ of its own; its messages stay until inspected or redriven (constructs-sqs rule Q4).",
    ),
)
"""Acknowledged on every DLQ a queue pattern creates or is given."""

SUBSCRIPTION_DEAD_LETTER_QUEUE_ACKNOWLEDGMENTS: tuple[tuple[str, str], ...] = (
    *DEAD_LETTER_QUEUE_ACKNOWLEDGMENTS,
    (
        "AwsSolutions::AwsSolutions-SQS3",
        "This queue is the dead-letter queue of an SNS subscription (its RedrivePolicy names it), which "
        "cdk-nag does not recognise as a DLQ use; a DLQ has no DLQ of its own.",
    ),
)
"""Acknowledged on the DLQ QueueAlarms gives the alarm topic's email subscription."""

LAMBDA_CONSUMER_ACKNOWLEDGMENTS: tuple[tuple[str, str], ...] = tuple(
    (
        f"{pack}::{pack}-LambdaDLQ",
        "A function's dead-letter queue receives failed asynchronous invocations only; the SQS event source "
        "invokes the function synchronously, and a message that keeps failing moves to the queue's own DLQ "
        "after maxReceiveCount (Lambda docs, \"Using Lambda with Amazon SQS\").",
    )
    for pack in ("Serverless", "HIPAA.Security", "NIST.800.53.R5")
)
"""For the function LambdaTriggeredQueue builds, which SQS alone invokes."""

EVENT_SOURCE_MAPPING_ACKNOWLEDGMENTS: tuple[tuple[str, str], ...] = (
    (
        "Serverless::Serverless-LambdaEventSourceMappingDestination",
        "On-failure destinations exist only for stream and Kafka event sources (Kinesis, DynamoDB Streams, "
        "Amazon MSK, self-managed Kafka); for an SQS event source the queue's redrive policy to its DLQ is the "
        "failure destination (Lambda API, EventSourceMapping DestinationConfig).",
    ),
)
"""For the SQS event source mapping of LambdaTriggeredQueue."""

UNSCOPABLE_ACTIONS_ACKNOWLEDGMENTS: tuple[tuple[str, str], ...] = (
    (
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "X-Ray's xray:PutTraceSegments and xray:PutTelemetryRecords (tracing) and EC2's network-interface "
        "actions (a function in a VPC) support no resource-level permissions, so IAM requires Resource '*' "
        "(Service Authorization Reference); every other statement of the consumer's policy names its resource.",
    ),
)
"""For the managed policy of a LambdaTriggeredQueue function with tracing or a VPC."""

WORKER_ENVIRONMENT_ACKNOWLEDGMENTS: tuple[tuple[str, str], ...] = (
    (
        "AwsSolutions::AwsSolutions-ECS2",
        "The container's environment holds the queue URL and the worker's settings (handler, concurrency, "
        "visibility, drain and protection seconds), none of them secret; secrets are passed with secrets=, which "
        "ECS reads from Secrets Manager or SSM Parameter Store at task start.",
    ),
)
"""For the task definition of QueueWorkerService."""

WORKER_TASK_PROTECTION_ACKNOWLEDGMENTS: tuple[tuple[str, str], ...] = (
    (
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<ClusterRef>/*]",
        "ecs:UpdateTaskProtection, which the ECS agent calls with the task role when the worker sets scale-in "
        "protection, names a task by its id, known only once the task runs: task/<cluster>/* is the narrowest "
        "resource IAM accepts (Service Authorization Reference, Amazon ECS).",
    ),
)
"""For the task role policy of QueueWorkerService (the resource id is written once the cluster is known)."""

WORKER_VPC_ACKNOWLEDGMENTS: tuple[tuple[str, str], ...] = (
    *(
        (
            f"{pack}::{pack}-VPCDefaultSecurityGroupClosed",
            "Nothing is attached to the default security group of the VPC a worker service creates: the tasks get "
            "a security group of their own (outbound only) and the VPC holds no other resource. Closing it takes "
            "aws-cdk-lib's restrictDefaultSecurityGroup custom resource, a Lambda function with "
            "ec2:RevokeSecurityGroupIngress/Egress that runs at each deploy.",
        )
        for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
    ),
    *(
        (
            f"{pack}::{pack}-VPCNoUnrestrictedRouteToIGW",
            "The public subnets of the VPC a worker service creates hold only its NAT gateway (they map no public "
            "IP and no task runs there); their 0.0.0.0/0 route to the internet gateway is how the tasks in the "
            "private subnets reach SQS, ECR and CloudWatch Logs through the NAT gateway.",
        )
        for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
    ),
)
"""For the VPC QueueWorkerService creates when given none."""

WORKER_IMAGE_PULL_ACKNOWLEDGMENTS: tuple[tuple[str, str], ...] = (
    (
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "ecr:GetAuthorizationToken, which ECS calls with the execution role to pull an image from ECR, supports no "
        "resource-level permission, so IAM requires Resource '*' (Service Authorization Reference, Amazon ECR); "
        "the pull actions themselves name the image's repository.",
    ),
)
"""For the execution role policy of QueueWorkerService when its image is in ECR."""
