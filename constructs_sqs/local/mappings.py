"""The SQS event source mappings of a deployed app: what the local runner needs to play each one.

Each mapping is read from two places: the cloud assembly (the template's mapping, function and layer
resources, and their ``aws:asset:path`` metadata, which names the code directory in ``cdk.out``) and
the emulator (the mapping's batch size, batching window and scaling as created, the function's
handler, timeout, memory and environment as deployed, the queue's URL and dead-letter queue).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .deploy import DeployedResource, DeployedStack, Deployment
from .emulator import Emulator

Handler = Callable[[dict[str, Any], Any], Any]
"""A Lambda handler: ``handler(event, context)``."""

DEFAULT_BATCH_SIZE = 10
"""Lambda's default batch size for SQS (standard and FIFO)."""


@dataclass(frozen=True)
class EventSourceMapping:
    """One SQS event source mapping of a deployed app, with its function and queue.

    ``handler_function``, when set (see :meth:`with_handler`), is called instead of importing
    ``handler`` from ``code_dir``: tests drive the runner with a handler of their own this way.
    """

    stack: str
    logical_id: str
    uuid: str
    function_name: str
    function_arn: str
    handler: str
    code_dir: Path | None
    layer_dirs: tuple[Path, ...]
    environment: Mapping[str, str]
    timeout_seconds: int
    memory_mb: int
    queue_arn: str
    queue_url: str
    visibility_timeout_seconds: int
    dead_letter_queue_url: str | None
    max_receive_count: int | None
    batch_size: int
    max_batching_window_seconds: int
    max_concurrency: int | None
    report_batch_item_failures: bool
    enabled: bool
    handler_function: Handler | None = field(default=None, compare=False, repr=False)

    @property
    def queue_name(self) -> str:
        return self.queue_arn.rsplit(":", 1)[-1]

    @property
    def fifo(self) -> bool:
        return self.queue_name.endswith(".fifo")

    def with_handler(self, handler: Handler) -> EventSourceMapping:
        """This mapping, calling ``handler(event, context)`` instead of the function's own handler."""
        return dataclasses.replace(self, handler_function=handler)

    def describe(self) -> str:
        """One line: queue, function handler, batch size, window and concurrency."""
        window = f", window {self.max_batching_window_seconds} s" if self.max_batching_window_seconds else ""
        concurrency = f", max concurrency {self.max_concurrency}" if self.max_concurrency else ""
        return f"{self.queue_name} -> {self.handler} (batch {self.batch_size}{window}{concurrency})"


def _ref(value: Any) -> str | None:
    """The logical id a ``{"Ref": id}`` or ``{"Fn::GetAtt": [id, ...]}`` names, else None."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def _asset_dir(stack: DeployedStack, logical_id: str | None, assembly: Path) -> Path | None:
    """The directory of a resource's asset in the cloud assembly (``aws:asset:path`` metadata)."""
    if logical_id is None or logical_id not in stack.template.get("Resources", {}):
        return None
    asset = stack.template["Resources"][logical_id].get("Metadata", {}).get("aws:asset:path")
    if not asset:
        return None
    path = Path(asset) if Path(asset).is_absolute() else assembly / asset
    return path if path.is_dir() else None


def _layer_dirs(stack: DeployedStack, function: Mapping[str, Any], assembly: Path) -> tuple[Path, ...]:
    """The ``python`` directories of the function's layers that come from local assets.

    Published layers (Powertools) are not in the assembly; the runner uses what this Python has.
    """
    dirs = []
    for layer in function.get("Properties", {}).get("Layers", []):
        directory = _asset_dir(stack, _ref(layer), assembly)
        if directory is not None:
            dirs.append(directory / "python" if (directory / "python").is_dir() else directory)
    return tuple(dirs)


def _queue_facts(emulator: Emulator, queue_arn: str) -> tuple[str, int, str | None, int | None]:
    """(queue URL, visibility timeout, DLQ URL, maxReceiveCount) of the queue ``queue_arn`` in the emulator."""
    sqs = emulator.client("sqs")
    name = queue_arn.rsplit(":", 1)[-1]
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy", "VisibilityTimeout"])["Attributes"]
    visibility = int(attributes["VisibilityTimeout"])
    if "RedrivePolicy" not in attributes:
        return url, visibility, None, None
    policy = json.loads(attributes["RedrivePolicy"])
    dlq_name = policy["deadLetterTargetArn"].rsplit(":", 1)[-1]
    return url, visibility, sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"], int(policy["maxReceiveCount"])


def _mapping(
    emulator: Emulator, deployment: Deployment, stack: DeployedStack, resource: DeployedResource, created: Mapping[str, Any]
) -> EventSourceMapping:
    function = emulator.client("lambda").get_function_configuration(FunctionName=created["FunctionArn"])
    template_function = stack.template["Resources"].get(_ref(resource.properties.get("FunctionName")) or "", {})
    scaling = created.get("ScalingConfig") or resource.properties.get("ScalingConfig") or {}
    queue_url, visibility, dlq_url, max_receive_count = _queue_facts(emulator, created["EventSourceArn"])
    response_types = created.get("FunctionResponseTypes") or resource.properties.get("FunctionResponseTypes") or []
    return EventSourceMapping(
        stack=stack.name,
        logical_id=resource.logical_id,
        uuid=created["UUID"],
        function_name=function["FunctionName"],
        function_arn=function["FunctionArn"],
        handler=function["Handler"],
        code_dir=_asset_dir(stack, _ref(resource.properties.get("FunctionName")), deployment.assembly_dir),
        layer_dirs=_layer_dirs(stack, template_function, deployment.assembly_dir),
        environment=dict(function.get("Environment", {}).get("Variables", {})),
        timeout_seconds=int(function.get("Timeout", 3)),
        memory_mb=int(function.get("MemorySize", 128)),
        queue_arn=created["EventSourceArn"],
        queue_url=queue_url,
        visibility_timeout_seconds=visibility,
        dead_letter_queue_url=dlq_url,
        max_receive_count=max_receive_count,
        batch_size=int(created.get("BatchSize") or DEFAULT_BATCH_SIZE),
        max_batching_window_seconds=int(created.get("MaximumBatchingWindowInSeconds") or 0),
        max_concurrency=int(scaling["MaximumConcurrency"]) if scaling.get("MaximumConcurrency") else None,
        report_batch_item_failures="ReportBatchItemFailures" in response_types,
        enabled=created.get("State", "Enabled") == "Enabled",
    )


def discover_mappings(emulator: Emulator, deployment: Deployment) -> list[EventSourceMapping]:
    """Every SQS event source mapping of ``deployment``, in stack and template order.

    Parameters
    ----------
    emulator:
        The emulator the app is deployed in.
    deployment:
        From :func:`constructs_sqs.local.deploy.deploy_app` or
        :func:`~constructs_sqs.local.deploy.describe_deployment` (it names the cloud assembly).

    Raises
    ------
    ValueError
        When a mapping of the templates was not created in the emulator.
    """
    lambda_ = emulator.client("lambda")
    mappings = []
    for stack in deployment.stacks:
        for resource in stack.resources_of("AWS::Lambda::EventSourceMapping"):
            if not resource.physical_id:
                raise ValueError(f"event source mapping {stack.name}/{resource.logical_id} is not deployed")
            created = lambda_.get_event_source_mapping(UUID=resource.physical_id)
            if ":sqs:" in created["EventSourceArn"]:
                mappings.append(_mapping(emulator, deployment, stack, resource, created))
    return mappings
