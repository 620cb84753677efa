"""Finding a queue from what an operator types: a URL, a name, an ARN, or a deployed construct path."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from constructs_sqs_runtime._sqs import is_fifo_queue, queue_name_of, sqs_client

from ._errors import EXIT, CliError

__all__ = ["Aws", "Queue", "StackQueue"]

_ARN = re.compile(r"^arn:[a-z-]+:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]+)$")


@dataclass
class Queue:
    """A queue found: its URL and name, and what its attributes say about its dead-letter side."""

    url: str
    name: str
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def fifo(self) -> bool:
        return is_fifo_queue(self.name)

    @property
    def dead_letter_arn(self) -> str | None:
        """The ARN of this queue's DLQ (from its redrive policy), or None."""
        policy = self.attributes.get("RedrivePolicy")
        return str(json.loads(policy)["deadLetterTargetArn"]) if policy else None

    @property
    def max_receive_count(self) -> int | None:
        policy = self.attributes.get("RedrivePolicy")
        return int(json.loads(policy)["maxReceiveCount"]) if policy else None


@dataclass(frozen=True)
class StackQueue:
    """A queue of a deployed stack: construct path, logical id, physical id, and whether it is a DLQ there."""

    path: str
    logical_id: str
    physical_id: str
    dead_letter: bool


class Aws:
    """The clients of one CLI run, made on first use from ``--endpoint-url``, ``--region`` and ``--profile``."""

    def __init__(self, *, endpoint_url: str | None, region: str | None, profile: str | None) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self.profile = profile
        self._session: Any = None
        self._clients: dict[str, Any] = {}

    @property
    def session(self) -> Any:
        if self._session is None:
            import boto3

            # AWS_REGION is what the AWS CLI v2 and the other SDKs read (and make deploy-local prints);
            # boto3 itself reads only AWS_DEFAULT_REGION.
            region = self.region or os.environ.get("AWS_REGION") or None
            self._session = boto3.Session(profile_name=self.profile, region_name=region)
        return self._session

    @property
    def sqs(self) -> Any:
        if "sqs" not in self._clients:
            # botocore's standard retry mode retries throttling and transient errors (10 attempts).
            self._clients["sqs"] = sqs_client(session=self.session, endpoint_url=self.endpoint_url)
        return self._clients["sqs"]

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, endpoint_url=self.endpoint_url)
        return self._clients[service]

    # --- finding queues ---------------------------------------------------------------------------

    def queue(self, spec: str) -> Queue:
        """The queue ``spec`` names: a URL, an ARN, a construct path (``Stack/Construct``) or a name.

        Raises
        ------
        CliError
            When there is no such queue or stack, or the path names several queues (exit status 3).
        """
        if spec.startswith(("http://", "https://")):
            url = spec
        elif spec.startswith("arn:"):
            match = _ARN.match(spec)
            if match is None:
                raise CliError(f"{spec!r} is not an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>)", EXIT["usage"])
            url = self._url_of(match.group(3), match.group(2))
        elif "/" in spec:
            url = self._url_of(queue_name_of(self._construct(spec).physical_id))
        else:
            url = self._url_of(spec)
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return Queue(url=url, name=queue_name_of(url), attributes=dict(attributes))

    def stack_queues(self, stack: str) -> list[StackQueue]:
        """Every ``AWS::SQS::Queue`` of a deployed stack, with its construct path from the template."""
        cloudformation = self.client("cloudformation")
        body = cloudformation.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
        template: Mapping[str, Any] = json.loads(body) if isinstance(body, str) else body
        physical: dict[str, str] = {}
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
            for resource in page["StackResourceSummaries"]:
                physical[resource["LogicalResourceId"]] = resource.get("PhysicalResourceId", "")
        resources = template.get("Resources", {})
        dead_letters = {_get_att(r) for r in resources.values() if r.get("Type") == "AWS::SQS::Queue"}
        return [
            StackQueue(
                path=str(r.get("Metadata", {}).get("aws:cdk:path", f"{stack}/{logical_id}")),
                logical_id=logical_id,
                physical_id=physical.get(logical_id, ""),
                dead_letter=logical_id in dead_letters,
            )
            for logical_id, r in resources.items()
            if r.get("Type") == "AWS::SQS::Queue" and physical.get(logical_id)
        ]

    def is_dead_letter_queue(self, queue: Queue) -> list[str]:
        """The URLs of the queues whose redrive policy names ``queue`` (empty: it is no DLQ)."""
        return [str(u) for u in self.sqs.list_dead_letter_source_queues(QueueUrl=queue.url).get("queueUrls") or []]

    def _url_of(self, name: str, account: str | None = None) -> str:
        request = {"QueueName": name} if account is None else {"QueueName": name, "QueueOwnerAWSAccountId": account}
        try:
            return str(self.sqs.get_queue_url(**request)["QueueUrl"])
        except Exception as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
            if "NonExistentQueue" in code or "QueueDoesNotExist" in code:
                where = f" at {self.endpoint_url}" if self.endpoint_url else ""
                raise CliError(f"no queue named {name!r}{where}", EXIT["not-found"]) from None
            raise

    def _construct(self, path: str) -> StackQueue:
        """The queue of a deployed stack at a construct path (``ConstructsSqsOrders/Orders``)."""
        stack = path.split("/", 1)[0]
        queues = self.stack_queues(stack)
        exact = [q for q in queues if q.path in (path, f"{path}/Resource", f"{path}/Resource/Resource")]
        below = [q for q in queues if q.path.startswith(f"{path}/")]
        # A pattern holds its queue and its DLQ: the path of the pattern means the queue.
        candidates = exact or [q for q in below if not q.dead_letter] or below
        if not candidates:
            wanted = re.sub(r"[^A-Za-z0-9]", "", path.split("/", 1)[-1])
            candidates = [q for q in queues if q.logical_id.startswith(wanted)] if wanted else []
        if len(candidates) == 1:
            return candidates[0]
        known = ", ".join(sorted(q.path.removesuffix("/Resource").removesuffix("/Resource") for q in queues))
        if not candidates:
            raise CliError(f"no queue at construct path {path!r}; stack {stack} has: {known or 'no queue'}", EXIT["not-found"])
        listed = ", ".join(sorted(q.path for q in candidates))
        raise CliError(f"construct path {path!r} names {len(candidates)} queues ({listed}); name one", EXIT["not-found"])


def _get_att(resource: Mapping[str, Any]) -> str | None:
    """The logical id a queue's RedrivePolicy targets with ``Fn::GetAtt``, if any."""
    policy = resource.get("Properties", {}).get("RedrivePolicy")
    if isinstance(policy, Mapping):
        target = policy.get("deadLetterTargetArn")
        if isinstance(target, Mapping) and "Fn::GetAtt" in target:
            return str(target["Fn::GetAtt"][0])
    return None
