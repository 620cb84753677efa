"""``LambdaTriggeredQueue``: a queue with a DLQ, consumed by a Lambda function, with RELIABILITY L1-L6.

The construct wires an SQS event source mapping between a queue pattern (``FifoQueueWithDlq``,
``EncryptedQueue``, an imported pair, or a standard SSE-SQS queue it creates) and a function (one it
builds, or one the caller passes). It derives the queue's visibility timeout from the function timeout,
turns on partial batch responses, checks the batching and concurrency settings against each other, and
gives the function it builds a role that can do exactly what consuming the queue and logging need.

Precedence, as everywhere in the library: what the pattern must set > what the caller passes > defaults.
"""

from __future__ import annotations

import importlib.util
import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import (
    Annotations,
    ArnFormat,
    BundlingOptions,
    DockerImage,
    Duration,
    ILocalBundling,
    RemovalPolicy,
    Stack,
    Token,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import _defaults
from ._queue_base import QueueOptions, QueueWithDlqBase, build_queue_pair, check_queue_options
from ._validation import Problems, acknowledge, describe_duration, format_duration, seconds_of
from .queue_alarms import QueueAlarms

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_kms as kms

__all__ = ["LambdaTriggeredQueue"]

RUNTIME_PACKAGE = "constructs_sqs_runtime"
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3"
# Lambda's own default when a function sets no timeout.
LAMBDA_DEFAULT_TIMEOUT = Duration.seconds(3)
MAX_LAYERS = 5
# Python runtimes the runtime layer runs on (its package needs 3.10+); all have a Powertools v3 layer.
RUNTIME_LAYER_RUNTIMES = (
    lambda_.Runtime.PYTHON_3_10,
    lambda_.Runtime.PYTHON_3_11,
    lambda_.Runtime.PYTHON_3_12,
    lambda_.Runtime.PYTHON_3_13,
    lambda_.Runtime.PYTHON_3_14,
)
WARNING_VISIBILITY = "constructs-sqs:visibility-timeout"
WARNING_MAX_RECEIVE_COUNT = "constructs-sqs:max-receive-count"
WARNING_CONCURRENCY = "constructs-sqs:max-concurrency"
WARNING_CONSUME_GRANT = "constructs-sqs:consume-grant"
WARNING_FUNCTION_KEY = "constructs-sqs:function-encryption-key"
# Set on a queue pattern whose visibility timeout a consumer derived (it stays "not given").
_DERIVED_MARK = "_constructs_sqs_visibility_derived"

# Arguments that describe the function this construct builds; refused together with ``function=``.
_BUILD_ARGUMENTS = (
    "code",
    "handler",
    "memory_size",
    "runtime",
    "architecture",
    "environment",
    "service_name",
    "layers",
    "powertools_layer",
    "powertools_layer_version",
    "reserved_concurrent_executions",
    "log_retention",
    "function_encryption_key",
    "vpc",
    "vpc_subnets",
    "security_groups",
    "function_name",
    "description",
    "tracing",
)
# Arguments of the queue this construct creates; refused together with ``queue=``.
_QUEUE_ARGUMENTS = (
    "queue_name",
    "dead_letter_queue_name",
    "retention_period",
    "dead_letter_retention_period",
    "max_receive_count",
    "delivery_delay",
    "receive_message_wait_time",
    "max_message_size_bytes",
    "removal_policy",
    "dead_letter_removal_policy",
)


class LambdaTriggeredQueue(Construct):
    """A queue and its DLQ, consumed by a Lambda function through an SQS event source mapping.

    What it does by default (RELIABILITY L1-L6, Q7):

    - Derives the queue's visibility timeout: 6 x the function timeout + ``max_batching_window``. Below
      1 x the function timeout is a ``ConfigurationError``; between 1 x and 6 x, a warning.
    - Turns on ``ReportBatchItemFailures``; write the handler with
      ``constructs_sqs_runtime.sqs_batch_handler`` to return ``batchItemFailures``.
    - Checks batch size, batching window and maximum concurrency against the queue type and against the
      function's reserved concurrency, and warns when ``max_receive_count`` is below 5.
    - Builds the function (when given ``code`` and ``handler``) on Python 3.14 with explicit memory,
      timeout and a log group with retention, the Powertools layer and the ``constructs_sqs_runtime``
      layer, and a role whose permissions are one customer managed policy: consume on the queue,
      ``kms:Decrypt`` on its key, write to its own log group. Later grants to the function land in the
      same managed policy.

    Example::

        orders = FifoQueueWithDlq(self, "Orders", content_based_deduplication=True)
        consumer = LambdaTriggeredQueue(
            self, "OrdersConsumer",
            queue=orders,
            code=lambda_.Code.from_asset("handlers"),
            handler="orders_fulfilment.handler",
            max_concurrency=5,
        )
        orders_table.grant_write_data(consumer.function)

    Parameters
    ----------
    queue:
        The queue pattern to consume: ``FifoQueueWithDlq``, ``EncryptedQueue`` or one made by their
        ``from_queue_arns``. If it kept the default visibility timeout, the derived one is set on it.
        Default: - a standard queue and DLQ encrypted with SSE-SQS are created (id ``Queue``), from the
        queue arguments below.
    function:
        An existing function to trigger. Its role gets consume on the queue; no layer is added (see
        :meth:`powertools_layer`, :meth:`runtime_layer`). Give ``function`` or ``code`` + ``handler``.
        Default: - a function is built from ``code`` and ``handler``.
    code, handler:
        Code and handler (``module.function``) of the function to build.
    timeout:
        Timeout of the function to build, 1 s to 15 minutes. With ``function``, describes that
        function's timeout; required when it cannot be read (an imported function, an alias).
        Default: ``Duration.seconds(30)``; with ``function``, its own timeout.
    memory_size:
        Memory of the function to build, 128 to 10,240 MB. Default: 256.
    batch_size:
        Records per invocation: 1 to 10 for a FIFO queue; 1 to 10,000 for a standard queue, above 10
        only with ``max_batching_window`` of at least 1 s. Default: - Lambda's, 10.
    max_batching_window:
        How long Lambda gathers records before invoking, 0 to 300 s; standard queues only.
        Default: - none, Lambda invokes as soon as records are available.
    max_concurrency:
        Most concurrent invocations the event source starts, 2 to 1,000, at most the reserved
        concurrency. Default: - the reserved concurrency when it is 2 or more, else unlimited.
    visibility_timeout:
        The queue's visibility timeout, for the queue created here; at least the function timeout.
        With an imported ``queue``, describes its visibility timeout so it can be checked. With a
        ``queue`` pattern, only a value equal to the pattern's is accepted.
        Default: - 6 x function timeout + ``max_batching_window``.
    report_batch_item_failures:
        Let the handler report which records of a batch failed. Default: True.
    filters:
        Event filtering, a list of ``lambda_.FilterCriteria.filter({...})``; records that match no
        filter are deleted without invoking the function. Default: - every record invokes.
    enabled:
        Whether the event source mapping polls. Default: True.
    metrics_config:
        Event source mapping metrics (``lambda_.MetricsConfig``). Default: - none.
    runtime:
        Python runtime of the function to build. Default: ``lambda_.Runtime.PYTHON_3_14``.
    architecture:
        Default: ``lambda_.Architecture.X86_64``.
    environment:
        Environment variables of the function to build; they override ``POWERTOOLS_SERVICE_NAME``.
        Default: - only ``POWERTOOLS_SERVICE_NAME``.
    service_name:
        ``POWERTOOLS_SERVICE_NAME`` of the function to build. Default: - this construct's id.
    layers:
        More layers for the function to build, at most 3 (Lambda allows 5 and two are added).
        Default: - only the Powertools and ``constructs_sqs_runtime`` layers.
    powertools_layer:
        A Powertools layer to use instead of AWS's published one, e.g. in aws-cn or aws-us-gov where it
        is published from another account. Default: - AWS's published layer, see :meth:`powertools_layer`.
    powertools_layer_version:
        Version of AWS's published Powertools layer. Default: 27.
    reserved_concurrent_executions:
        Reserved concurrency of the function to build. Default: - none, the account's unreserved pool.
    log_retention:
        Retention of the function's log group. Default: ``logs.RetentionDays.ONE_MONTH``.
    function_encryption_key:
        A customer-managed key for the function's log group and environment variables (cdk-nag
        CloudWatchLogGroupEncrypted, checkov CKV_AWS_158 and CKV_AWS_173). A key created in this app gets the key policy statement CloudWatch Logs needs (``kms:Encrypt*``,
        ``kms:Decrypt*``, ``kms:ReEncrypt*``, ``kms:GenerateDataKey*``, ``kms:Describe*`` for
        ``logs.<region>.amazonaws.com``, scoped by the ``aws:logs:arn`` encryption context to this
        account's log groups in the region); an imported key must already have it, and a warning says so.
        Default: - CloudWatch Logs' own encryption.
    vpc, vpc_subnets, security_groups:
        Run the function to build in a VPC (cdk-nag LambdaInsideVPC). Default: - no VPC.
    function_name, description:
        Of the function to build. Default: - a generated name, no description.
    tracing:
        X-Ray tracing of the function to build (cdk-nag Serverless-LambdaTracing). ``ACTIVE`` adds
        ``xray:PutTraceSegments`` and ``xray:PutTelemetryRecords`` on ``*`` (X-Ray has no resource-level
        permissions) to the role's managed policy. Default: ``lambda_.Tracing.ACTIVE``: a consumer's
        traces show where a batch spent its time before it failed; ``DISABLED`` turns tracing and its
        permissions off.
    queue_name, dead_letter_queue_name, retention_period, dead_letter_retention_period,
    max_receive_count, delivery_delay, receive_message_wait_time, max_message_size_bytes,
    removal_policy, dead_letter_removal_policy:
        For the standard queue created when ``queue`` is not given, as for ``EncryptedQueue``.
        Defaults as there: ``max_receive_count`` 5, retention 4 days, DLQ retention 14 days, ...

    Attributes
    ----------
    source:
        The queue pattern consumed (given or created), with its grants.
    queue, dead_letter_queue, encryption_key, fifo:
        The source's queue, DLQ, key (None for SSE-SQS) and type.
    function:
        The function triggered.
    role:
        The role of the function built here, or None when ``function`` was given.
    log_group:
        The log group of the function built here, or None.
    event_source:
        The ``SqsEventSource``.
    event_source_mapping:
        The ``lambda_.EventSourceMapping`` it created.
    visibility_timeout:
        The queue's visibility timeout in force, or None when unknown (imported queue).
    max_concurrency:
        The event source's maximum concurrency, or None for unlimited.

    Raises
    ------
    ConfigurationError
        (a ``ValueError``) listing every invalid argument of the call.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        queue: QueueWithDlqBase | None = None,
        function: lambda_.IFunction | None = None,
        code: lambda_.Code | None = None,
        handler: str | None = None,
        timeout: Duration | None = None,
        memory_size: int | None = None,
        batch_size: int | None = None,
        max_batching_window: Duration | None = None,
        max_concurrency: int | None = None,
        visibility_timeout: Duration | None = None,
        report_batch_item_failures: bool = _defaults.REPORT_BATCH_ITEM_FAILURES,
        filters: Sequence[Mapping[str, Any]] | None = None,
        enabled: bool = True,
        metrics_config: lambda_.MetricsConfig | None = None,
        runtime: lambda_.Runtime | None = None,
        architecture: lambda_.Architecture | None = None,
        environment: Mapping[str, str] | None = None,
        service_name: str | None = None,
        layers: Sequence[lambda_.ILayerVersion] | None = None,
        powertools_layer: lambda_.ILayerVersion | None = None,
        powertools_layer_version: int | None = None,
        reserved_concurrent_executions: int | None = None,
        log_retention: logs.RetentionDays | None = None,
        function_encryption_key: kms.IKey | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        function_name: str | None = None,
        description: str | None = None,
        tracing: lambda_.Tracing | None = None,
        queue_name: str | None = None,
        dead_letter_queue_name: str | None = None,
        retention_period: Duration | None = None,
        dead_letter_retention_period: Duration | None = None,
        max_receive_count: int | None = None,
        delivery_delay: Duration | None = None,
        receive_message_wait_time: Duration | None = None,
        max_message_size_bytes: int | None = None,
        removal_policy: RemovalPolicy | None = None,
        dead_letter_removal_policy: RemovalPolicy | None = None,
    ) -> None:
        super().__init__(scope, id)
        given = dict(locals())
        problems = Problems(self.node.path)

        # --- Which function, which queue ----------------------------------------------------------
        if function is None and (code is None or handler is None):
            missing = " and ".join(name for name in ("code", "handler") if given[name] is None)
            problems.add(f"{missing} must be given to build a function, or pass an existing function=")
        if function is not None:
            clashing = [name for name in _BUILD_ARGUMENTS if given[name] is not None]
            if clashing:
                problems.add(
                    f"{', '.join(clashing)} {_verb(clashing)} only to the function this construct builds, got "
                    f"{_them(clashing)} with function={function.node.path}: configure that function where it is "
                    "defined"
                )
        if queue is not None:
            clashing = [name for name in _QUEUE_ARGUMENTS if given[name] is not None]
            if clashing:
                problems.add(
                    f"{', '.join(clashing)} {_verb(clashing)} only to the queue this construct creates, got "
                    f"{_them(clashing)} with queue={queue.node.path}: set {_them(clashing)} on that queue pattern"
                )

        # --- The function's timeout and reserved concurrency (L1, L4) -----------------------------
        if function is None:
            function_timeout: Duration | None = timeout or _defaults.LAMBDA_TIMEOUT
            problems.duration_between("timeout", timeout, Duration.seconds(1), Duration.minutes(15))
            problems.int_between("memory_size", memory_size, 128, 10_240, "MB")
            reserved = reserved_concurrent_executions
            problems.int_between("reserved_concurrent_executions", reserved, 0, 1_000_000)
            chosen_runtime = runtime or _defaults.LAMBDA_RUNTIME
            if chosen_runtime.family != lambda_.RuntimeFamily.PYTHON:
                problems.add(
                    f"runtime must be a Python runtime (the handler helper and Powertools layer are Python), "
                    f"got {chosen_runtime.name}"
                )
            if layers is not None and len(layers) > MAX_LAYERS - 2:
                problems.add(
                    f"layers must be at most {MAX_LAYERS - 2} (Lambda allows {MAX_LAYERS}, and the Powertools "
                    f"and {RUNTIME_PACKAGE} layers are added), got {len(layers)}"
                )
            if powertools_layer is not None and powertools_layer_version is not None:
                problems.add(
                    "powertools_layer_version applies to AWS's published Powertools layer, got it with "
                    "powertools_layer: give one or the other"
                )
            problems.int_between("powertools_layer_version", powertools_layer_version, 1, 1_000_000)
        else:
            function_timeout = _timeout_of(function)
            problems.duration_between("timeout", timeout, Duration.seconds(1), Duration.minutes(15))
            if function_timeout is None:
                if timeout is None:
                    problems.add(
                        f"timeout must describe the timeout of function={function.node.path}, which does not "
                        "expose it (imported or an alias): the queue's visibility timeout is derived from it"
                    )
                function_timeout = timeout
            elif timeout is not None and _differ(timeout, function_timeout):
                problems.add(
                    f"timeout ({describe_duration(timeout)}) must equal the timeout of function={function.node.path} "
                    f"({describe_duration(function_timeout)}), or be left unset"
                )
            reserved = _reserved_concurrency_of(function)

        # --- Batching and concurrency (L3, L4) ----------------------------------------------------
        fifo = queue.fifo if queue is not None else False
        _check_batching(problems, fifo=fifo, batch_size=batch_size, max_batching_window=max_batching_window)
        problems.int_between("max_concurrency", max_concurrency, 2, 1_000)
        reserved_known = reserved is not None and not Token.is_unresolved(reserved)
        if max_concurrency is not None and reserved_known and not Token.is_unresolved(max_concurrency):
            if max_concurrency > reserved:  # type: ignore[operator]
                problems.add(
                    f"max_concurrency must be at most the function's reserved concurrency ({reserved:,}), got "
                    f"{max_concurrency:,}: throttled invocations count as receives and send healthy messages "
                    "to the DLQ"
                )

        # --- Visibility timeout (L1) --------------------------------------------------------------
        window = seconds_of(max_batching_window) if max_batching_window is not None else 0.0
        timeout_seconds = seconds_of(function_timeout) if function_timeout is not None else None
        derived: float | None = None
        if timeout_seconds is not None and window is not None:
            # Whole seconds, rounded up: SQS takes no fraction, and a fractional window is reported alone.
            derived = float(math.ceil(_defaults.VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT * timeout_seconds + window))

        warnings: list[tuple[str, str]] = []
        infos: list[str] = []
        set_on_pattern: float | None = None
        options: QueueOptions | None = None
        in_force: Duration | None = None

        if queue is None:
            options = QueueOptions.with_defaults(
                queue_name=queue_name,
                dead_letter_queue_name=dead_letter_queue_name,
                visibility_timeout=visibility_timeout or (Duration.seconds(derived) if derived is not None else None),
                visibility_timeout_given=visibility_timeout is not None,
                retention_period=retention_period,
                dead_letter_retention_period=dead_letter_retention_period,
                max_receive_count=max_receive_count,
                delivery_delay=delivery_delay,
                receive_message_wait_time=receive_message_wait_time,
                max_message_size_bytes=max_message_size_bytes,
                removal_policy=removal_policy,
                dead_letter_removal_policy=dead_letter_removal_policy,
            )
            check_queue_options(problems, options, fifo=False)
            in_force = options.visibility_timeout
            if visibility_timeout is not None:
                _check_visibility(
                    problems, warnings, "visibility_timeout", seconds_of(visibility_timeout), timeout_seconds,
                    window, derived,
                )
            receive_count: int | None = options.max_receive_count
        else:
            known = queue.visibility_timeout
            if visibility_timeout is not None:
                problems.duration_between(
                    "visibility_timeout", visibility_timeout, Duration.seconds(0), Duration.hours(12)
                )
            if known is None:
                # An imported queue: the caller may describe its visibility timeout so it can be checked.
                if visibility_timeout is not None:
                    in_force = visibility_timeout
                    _check_visibility(
                        problems, warnings, "visibility_timeout", seconds_of(visibility_timeout),
                        timeout_seconds, window, derived,
                    )
                else:
                    warnings.append((
                        WARNING_VISIBILITY,
                        f"the visibility timeout of queue={queue.node.path} is unknown (imported), so it cannot "
                        f"be checked against the function timeout: it must be at least "
                        f"{_fmt(derived, 'the function timeout x 6 + max_batching_window')}; pass "
                        "visibility_timeout= to describe it and have it checked",
                    ))
            elif visibility_timeout is not None and _differ(visibility_timeout, known):
                problems.add(
                    f"visibility_timeout ({describe_duration(visibility_timeout)}) cannot be applied to queue={queue.node.path}, "
                    f"which is already built with {describe_duration(known)}: set visibility_timeout on that queue "
                    "pattern, or leave it unset here to have it derived"
                )
            elif not queue.visibility_timeout_given and visibility_timeout is None:
                known_seconds = seconds_of(known)
                # A second consumer of the same pattern keeps the longer of the derived values.
                kept = getattr(queue, _DERIVED_MARK, False) and known_seconds is not None
                if derived is not None and not (kept and known_seconds >= derived):  # type: ignore[operator]
                    set_on_pattern = derived
                    in_force = Duration.seconds(derived)
                else:
                    in_force = known
            else:
                in_force = known
                label = f"visibility_timeout of queue={queue.node.path}"
                _check_visibility(problems, warnings, label, seconds_of(known), timeout_seconds, window, derived)
            receive_count = queue.max_receive_count

        problems.raise_if_any()

        # --- Everything is valid: warnings, then build --------------------------------------------
        if (
            receive_count is not None
            and not Token.is_unresolved(receive_count)
            and receive_count < _defaults.CONSUMER_MIN_MAX_RECEIVE_COUNT
        ):
            warnings.append((
                WARNING_MAX_RECEIVE_COUNT,
                f"max_receive_count is {receive_count}, below {_defaults.CONSUMER_MIN_MAX_RECEIVE_COUNT}: with a "
                "Lambda consumer, throttled deliveries count as receives, so healthy messages can reach the "
                "DLQ under load (RELIABILITY Q7)",
            ))
        chosen_concurrency = max_concurrency
        if max_concurrency is None and reserved_known:
            if reserved >= 2:  # type: ignore[operator]
                chosen_concurrency = min(reserved, 1_000)  # type: ignore[type-var]
                infos.append(
                    f"max_concurrency set to {chosen_concurrency:,}, the function's reserved concurrency, so the "
                    "event source does not start invocations that would be throttled"
                )
            else:
                warnings.append((
                    WARNING_CONCURRENCY,
                    f"the function's reserved concurrency is {reserved}, below the smallest max_concurrency (2): "
                    "the event source will be throttled and throttled deliveries count as receives; raise the "
                    "reserved concurrency to 2 or more, or remove it",
                ))

        if queue is None:
            assert options is not None
            queue = _StandardQueueWithDlq(self, "Queue", options=options)
        elif set_on_pattern is not None:
            cfn_queue = queue.queue.node.default_child
            if isinstance(cfn_queue, sqs.CfnQueue):
                cfn_queue.visibility_timeout = int(set_on_pattern)
                queue.visibility_timeout = Duration.seconds(set_on_pattern)
                setattr(queue, _DERIVED_MARK, True)
                infos.append(
                    f"visibility_timeout of queue={queue.node.path} set to {format_duration(set_on_pattern)}: "
                    f"{_defaults.VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT} x the function timeout "
                    f"({format_duration(timeout_seconds or 0)}) + max_batching_window ({format_duration(window or 0)})"
                )
            else:
                in_force = queue.visibility_timeout
                warnings.append((
                    WARNING_VISIBILITY,
                    f"the visibility timeout of queue={queue.node.path} could not be set (its queue is not an "
                    f"sqs.Queue); it must be at least {format_duration(set_on_pattern)}",
                ))

        for warning_id, message in warnings:
            Annotations.of(self).add_warning_v2(warning_id, message)
        for message in infos:
            Annotations.of(self).add_info(message)

        self.source: QueueWithDlqBase = queue
        self.queue: sqs.IQueue = queue.queue
        self.dead_letter_queue: sqs.IQueue = queue.dead_letter_queue
        self.encryption_key: kms.IKey | None = queue.encryption_key
        self.fifo: bool = queue.fifo
        self.visibility_timeout: Duration | None = in_force
        self.max_concurrency: int | None = chosen_concurrency
        self.role: iam.Role | None = None
        self.log_group: logs.LogGroup | None = None

        if function is None:
            assert code is not None and handler is not None
            function = self._build_function(
                code=code,
                handler=handler,
                timeout=timeout or _defaults.LAMBDA_TIMEOUT,
                memory_size=_defaults.LAMBDA_MEMORY_SIZE if memory_size is None else memory_size,
                runtime=runtime or _defaults.LAMBDA_RUNTIME,
                architecture=architecture or _defaults.LAMBDA_ARCHITECTURE,
                environment={"POWERTOOLS_SERVICE_NAME": service_name or id, **(environment or {})},
                layers=list(layers or []),
                powertools_layer=powertools_layer,
                powertools_layer_version=powertools_layer_version,
                reserved_concurrent_executions=reserved_concurrent_executions,
                log_retention=log_retention or _defaults.LAMBDA_LOG_RETENTION,
                function_encryption_key=function_encryption_key,
                vpc=vpc,
                vpc_subnets=vpc_subnets,
                security_groups=security_groups,
                function_name=function_name,
                description=description,
                tracing=tracing,
            )
        elif function.role is None:
            Annotations.of(self).add_warning_v2(
                WARNING_CONSUME_GRANT,
                f"function={function.node.path} has no known role, so it was not granted consume on the queue: "
                "call grant_consume_messages on its role where the role is defined",
            )
        self.function: lambda_.IFunction = function

        # SqsEventSource grants the function's role consume on the queue (and kms:Decrypt on its key).
        self.event_source = event_sources.SqsEventSource(
            queue.queue,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            max_concurrency=chosen_concurrency,
            report_batch_item_failures=report_batch_item_failures,
            filters=list(filters) if filters is not None else None,
            enabled=enabled,
            metrics_config=metrics_config,
        )
        function.add_event_source(self.event_source)
        self.event_source_mapping: lambda_.EventSourceMapping = _mapping_of(function, self.event_source)
        # Compliance: rules an SQS consumer cannot meet, with the reasons in _defaults: a function DLQ
        # (LambdaDLQ) serves asynchronous invokes only, and only stream and Kafka event sources have
        # on-failure destinations; the queue's DLQ is both. Only on the function built here, which SQS
        # alone invokes.
        if self.role is not None:
            acknowledge(function, _defaults.LAMBDA_CONSUMER_ACKNOWLEDGMENTS)
        acknowledge(self.event_source_mapping, _defaults.EVENT_SOURCE_MAPPING_ACKNOWLEDGMENTS)

    # --- Layers ----------------------------------------------------------------------------------

    @staticmethod
    def powertools_layer(
        scope: Construct,
        *,
        runtime: lambda_.Runtime | None = None,
        architecture: lambda_.Architecture | None = None,
        version: int | None = None,
    ) -> lambda_.ILayerVersion:
        """AWS's published Powertools for AWS Lambda (Python) v3 layer, for a function of this stack.

        ``arn:${AWS::Partition}:lambda:${AWS::Region}:017000801446:layer:
        AWSLambdaPowertoolsPythonV3-<python3XX>-<x86_64|arm64>:<version>``. One import per stack and
        layer. Add it, with :meth:`runtime_layer`, to a function you pass as ``function=``.

        Parameters
        ----------
        scope:
            Any construct of the stack.
        runtime:
            The function's Python runtime. Default: ``lambda_.Runtime.PYTHON_3_14``.
        architecture:
            The function's architecture. Default: ``lambda_.Architecture.X86_64``.
        version:
            The layer version. Default: 27.
        """
        runtime = runtime or _defaults.LAMBDA_RUNTIME
        architecture = architecture or _defaults.LAMBDA_ARCHITECTURE
        version = _defaults.POWERTOOLS_LAYER_VERSION if version is None else version
        name = f"{POWERTOOLS_LAYER_NAME}-{runtime.name.replace('.', '')}-{architecture.name}"
        stack = Stack.of(scope)
        layer_id = f"ConstructsSqsPowertoolsLayer-{runtime.name}-{architecture.name}-{version}"
        existing = stack.node.try_find_child(layer_id)
        if existing is not None:
            return existing  # type: ignore[return-value]
        arn = stack.format_arn(
            service="lambda",
            account=_defaults.POWERTOOLS_LAYER_ACCOUNT,
            resource="layer",
            resource_name=f"{name}:{version}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        return lambda_.LayerVersion.from_layer_version_arn(stack, layer_id, arn)

    @staticmethod
    def runtime_layer(scope: Construct) -> lambda_.LayerVersion:
        """A layer with the ``constructs_sqs_runtime`` package (the batch handler helper), one per stack.

        Built from the installed package's files, without Docker, into ``python/constructs_sqs_runtime``.
        It needs the Powertools layer (:meth:`powertools_layer`) beside it.
        """
        stack = Stack.of(scope)
        layer_id = "ConstructsSqsRuntimeLayer"
        existing = stack.node.try_find_child(layer_id)
        if existing is not None:
            return existing  # type: ignore[return-value]
        source = _runtime_package_dir()
        return lambda_.LayerVersion(
            stack,
            layer_id,
            code=lambda_.Code.from_asset(
                str(source),
                bundling=BundlingOptions(
                    image=DockerImage.from_registry("none"),
                    local=_CopyPackage(source, RUNTIME_PACKAGE),
                ),
                exclude=["__pycache__", "*.pyc"],
            ),
            compatible_runtimes=list(RUNTIME_LAYER_RUNTIMES),
            compatible_architectures=[lambda_.Architecture.X86_64, lambda_.Architecture.ARM_64],
            description="constructs-sqs: constructs_sqs_runtime, the SQS batch handler helper",
        )

    # --- Grants (delegate to the queue pattern) --------------------------------------------------

    def grant_send_messages(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` send to the queue: see ``QueueWithDlqBase.grant_send_messages``."""
        return self.source.grant_send_messages(grantee)

    def grant_consume_messages(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` receive and delete messages: see ``QueueWithDlqBase.grant_consume_messages``."""
        return self.source.grant_consume_messages(grantee)

    def grant_purge(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` purge the queue: see ``QueueWithDlqBase.grant_purge``."""
        return self.source.grant_purge(grantee)

    def grant_consume_dead_letters(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the DLQ, with ``kms:Decrypt``: see ``QueueWithDlqBase.grant_consume_dead_letters``."""
        return self.source.grant_consume_dead_letters(grantee)

    def grant_redrive(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` move messages from the DLQ back: see ``QueueWithDlqBase.grant_redrive``."""
        return self.source.grant_redrive(grantee)

    def allow_service_producer(self, principal: iam.ServicePrincipal | str, source_arn: str) -> None:
        """Let an AWS service send to the queue: see ``QueueWithDlqBase.allow_service_producer``."""
        self.source.allow_service_producer(principal, source_arn)

    def add_alarms(self, **kwargs: Any) -> QueueAlarms:
        """Watch the queue, its DLQ and this consumer (errors, throttles): see ``QueueWithDlqBase.add_alarms``.

        Returns ``QueueAlarms(self, "Alarms", queue=self, **kwargs)``; the construct id is fixed.
        """
        return QueueAlarms(self, "Alarms", queue=self, **kwargs)

    # --- Building the function -------------------------------------------------------------------

    def _build_function(
        self,
        *,
        code: lambda_.Code,
        handler: str,
        timeout: Duration,
        memory_size: int,
        runtime: lambda_.Runtime,
        architecture: lambda_.Architecture,
        environment: dict[str, str],
        layers: list[lambda_.ILayerVersion],
        powertools_layer: lambda_.ILayerVersion | None,
        powertools_layer_version: int | None,
        reserved_concurrent_executions: int | None,
        log_retention: logs.RetentionDays,
        function_encryption_key: kms.IKey | None,
        vpc: ec2.IVpc | None,
        vpc_subnets: ec2.SubnetSelection | None,
        security_groups: Sequence[ec2.ISecurityGroup] | None,
        function_name: str | None,
        description: str | None,
        tracing: lambda_.Tracing | None,
    ) -> lambda_.Function:
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=log_retention,
            removal_policy=_defaults.LAMBDA_LOG_REMOVAL_POLICY,
            encryption_key=function_encryption_key,
        )
        if function_encryption_key is not None:
            self._allow_logs_to_use(function_encryption_key)
        tracing = tracing or _defaults.LAMBDA_TRACING
        role = _ManagedPolicyRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"constructs-sqs: consumer of the queue {self.source.node.path}",
        )
        self.role = role
        # The function's own log group only (L5): no logs:CreateLogGroup, no "*".
        self.log_group.grant_write(role)
        if vpc is not None:
            # Lambda creates the function's network interfaces with its role; these EC2 actions do not
            # support resource-level permissions, hence "*". Only with a VPC.
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(VPC_NETWORK_INTERFACE_ACTIONS),
                    resources=["*"],
                )
            )
        function = lambda_.Function(
            self,
            "Function",
            runtime=runtime,
            architecture=architecture,
            code=code,
            handler=handler,
            timeout=timeout,
            memory_size=memory_size,
            role=role,
            log_group=self.log_group,
            environment=environment,
            layers=[
                powertools_layer
                or self.powertools_layer(
                    self, runtime=runtime, architecture=architecture, version=powertools_layer_version
                ),
                self.runtime_layer(self),
                *layers,
            ],
            reserved_concurrent_executions=reserved_concurrent_executions,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
            function_name=function_name,
            description=description,
            tracing=tracing,
            environment_encryption=function_encryption_key,
        )
        if tracing != lambda_.Tracing.DISABLED or vpc is not None:
            # The X-Ray and EC2 network-interface actions added above take no resource-level permission.
            acknowledge(role.managed_policy, _defaults.UNSCOPABLE_ACTIONS_ACKNOWLEDGMENTS)
        # The event source mapping is created only once the role can read the queue: the mapping
        # references the function, and the function waits for the role's managed policy.
        function.node.add_dependency(role.managed_policy)
        return function


    def _allow_logs_to_use(self, key: kms.IKey) -> None:
        """Let CloudWatch Logs encrypt this account's log groups in this region with ``key``.

        Scoped by the encryption context rather than this log group's ARN: the log group names the
        key, so a key policy naming the log group would be a dependency cycle.
        """
        stack = Stack.of(self)
        statement = iam.PolicyStatement(
            actions=list(LOGS_KEY_ACTIONS),
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs", resource="log-group", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
                    )
                }
            },
        )
        if not key.add_to_resource_policy(statement).statement_added:
            Annotations.of(self).add_warning_v2(
                WARNING_FUNCTION_KEY,
                f"function_encryption_key {key.node.path} is imported, so its key policy cannot be changed here: it "
                "must let logs.<region>.amazonaws.com use kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, "
                "kms:GenerateDataKey* and kms:Describe*, or the log group cannot be created",
            )


LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")

VPC_NETWORK_INTERFACE_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


class _ManagedPolicyRole(iam.Role):
    """A role whose added statements go to one customer managed policy instead of an inline one.

    Every grant to the function (the event source's consume grant, ``grant_write_data`` of a table a
    caller adds later) lands in ``managed_policy``, so the role has no inline policy (cdk-nag
    IAMNoInlinePolicy) and no AWS managed policy (AwsSolutions-IAM4).
    """

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.managed_policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="constructs-sqs: the permissions of a queue consumer function",
            roles=[self],
        )

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self.managed_policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.managed_policy)


class _StandardQueueWithDlq(QueueWithDlqBase):
    """A standard queue and DLQ encrypted with SSE-SQS: the queue a ``LambdaTriggeredQueue`` creates."""

    def __init__(self, scope: Construct, id: str, *, options: QueueOptions) -> None:
        super().__init__(scope, id)
        build_queue_pair(
            self,
            options,
            fifo=False,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            encryption_master_key=None,
            data_key_reuse=None,
        )


@jsii.implements(ILocalBundling)
class _CopyPackage:
    """Local bundling without Docker: copy a pure-Python package to ``python/<package>`` of a layer."""

    def __init__(self, source: Path, package: str) -> None:
        self._source = source
        self._package = package

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:  # noqa: ARG002
        shutil.copytree(
            self._source,
            Path(output_dir) / "python" / self._package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            dirs_exist_ok=True,
        )
        return True


# --- Helpers -------------------------------------------------------------------------------------


def _runtime_package_dir() -> Path:
    # Found without importing it: importing would import aws_lambda_powertools, which the CDK side
    # does not need.
    spec = importlib.util.find_spec(RUNTIME_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"{RUNTIME_PACKAGE} is not installed: it ships with constructs-sqs; reinstall the package"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _timeout_of(function: lambda_.IFunction) -> Duration | None:
    """The timeout of a function defined in this app, Lambda's 3 s default when it sets none."""
    if isinstance(function, lambda_.Function):
        return function.timeout or LAMBDA_DEFAULT_TIMEOUT
    return None


def _reserved_concurrency_of(function: lambda_.IFunction) -> int | None:
    if isinstance(function, lambda_.Function):
        cfn = function.node.default_child
        if isinstance(cfn, lambda_.CfnFunction):
            value = cfn.reserved_concurrent_executions
            return value if isinstance(value, (int, float)) else None
    return None


def _mapping_of(function: lambda_.IFunction, source: event_sources.SqsEventSource) -> lambda_.EventSourceMapping:
    """The ``EventSourceMapping`` construct that ``source.bind`` created under ``function``."""
    for child in function.node.children:
        if isinstance(child, lambda_.EventSourceMapping) and (
            child.event_source_mapping_id == source.event_source_mapping_id
        ):
            return child
    raise LookupError(f"no event source mapping of {source} found under {function.node.path}")


def _verb(names: list[str]) -> str:
    return "applies" if len(names) == 1 else "apply"


def _them(names: list[str]) -> str:
    return "it" if len(names) == 1 else "them"


def _differ(a: Duration, b: Duration) -> bool:
    left, right = seconds_of(a), seconds_of(b)
    return left is not None and right is not None and left != right


def _fmt(seconds: float | None, otherwise: str) -> str:
    return format_duration(seconds) if seconds is not None else otherwise


def _check_batching(
    problems: Problems, *, fifo: bool, batch_size: int | None, max_batching_window: Duration | None
) -> None:
    """RELIABILITY L3: the batch size and window Lambda accepts for the queue type."""
    size_known = batch_size is not None and not Token.is_unresolved(batch_size)
    if fifo:
        if size_known and (isinstance(batch_size, bool) or not 1 <= batch_size <= 10):  # type: ignore[operator]
            problems.add(f"batch_size must be between 1 and 10 for a FIFO queue, got {batch_size!r}")
        if max_batching_window is not None:
            problems.add(
                f"max_batching_window must not be set for a FIFO queue (Lambda does not batch FIFO "
                f"messages by time), got {describe_duration(max_batching_window)}"
            )
        return
    problems.int_between("batch_size", batch_size, 1, 10_000)
    problems.duration_between("max_batching_window", max_batching_window, Duration.seconds(0), Duration.seconds(300))
    if size_known and batch_size > 10:  # type: ignore[operator]
        window = seconds_of(max_batching_window) if max_batching_window is not None else 0.0
        if window is not None and window < 1:
            shown = "none" if max_batching_window is None else describe_duration(max_batching_window)
            problems.add(
                f"max_batching_window must be at least 1 second when batch_size is above 10, got {shown} "
                f"with batch_size {batch_size:,}"
            )


def _check_visibility(
    problems: Problems,
    warnings: list[tuple[str, str]],
    label: str,
    visibility: float | None,
    timeout: float | None,
    window: float | None,
    derived: float | None,
) -> None:
    """RELIABILITY L1: error below 1 x the function timeout, warning below 6 x + window."""
    if visibility is None or timeout is None or derived is None:
        return
    if visibility < timeout:
        problems.add(
            f"{label} must be at least the function timeout ({format_duration(timeout)}), got "
            f"{format_duration(visibility)}: Lambda refuses to create the event source mapping; leave it "
            f"unset to derive {format_duration(derived)} "
            f"({_defaults.VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT} x timeout + max_batching_window)"
        )
    elif visibility < derived:
        warnings.append((
            WARNING_VISIBILITY,
            f"{label} is {format_duration(visibility)}, below "
            f"{_defaults.VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT} x the function timeout + max_batching_window "
            f"({format_duration(derived)}): messages of a batch that is retried or slow can become visible "
            "again and be processed twice (RELIABILITY L1)",
        ))
