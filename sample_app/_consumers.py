"""What the sample app's three Lambda consumers share: their code, their key, and why they run outside a VPC."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_sqs import LambdaTriggeredQueue

HANDLERS_DIR = Path(__file__).resolve().parent / "handlers"

NO_VPC_REASON = (
    "The sample consumers call no resource inside a VPC: Lambda's event source polls SQS, and logs and traces "
    "go to CloudWatch Logs and X-Ray, all outside any VPC. A VPC would add network interfaces, endpoints and "
    "flow-log resources without closing any network path; pass vpc= to LambdaTriggeredQueue for a consumer "
    "that reaches private resources."
)
"""The sample app's one acknowledgment of its own: cdk-nag LambdaInsideVPC and checkov CKV_AWS_117."""


def handlers_code() -> lambda_.Code:
    """The handlers directory as Lambda code (no dependencies to bundle: Powertools comes as a layer)."""
    return lambda_.Code.from_asset(str(HANDLERS_DIR), exclude=["__pycache__", "*.pyc"])


def consumer_key(scope: Construct) -> kms.Key:
    """A key for a consumer's log group and environment variables (CloudWatchLogGroupEncrypted, CKV_AWS_158,
    CKV_AWS_173), with rotation."""
    return kms.Key(
        scope,
        "ConsumerKey",
        enable_key_rotation=True,
        description="constructs-sqs sample: encrypts the consumer's logs and environment",
    )


def outside_vpc(consumer: LambdaTriggeredQueue) -> LambdaTriggeredQueue:
    """Acknowledge, on the consumer's function, that it runs outside a VPC, with :data:`NO_VPC_REASON`."""
    for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"):
        Validations.of(consumer.function).acknowledge(
            Acknowledgment(id=f"{pack}::{pack}-LambdaInsideVPC", reason=NO_VPC_REASON)
        )
    function = consumer.function.node.default_child
    assert isinstance(function, lambda_.CfnFunction)
    function.add_metadata("checkov", {"skip": [{"id": "CKV_AWS_117", "comment": NO_VPC_REASON}]})
    return consumer
