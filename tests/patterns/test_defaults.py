"""One test per default of the queue patterns, read from the synthesized template (RELIABILITY Q1-Q11)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs
from helpers import new_app, template_of

from constructs_sqs import EncryptedQueue, FifoQueueWithDlq

PATTERNS = {"fifo": FifoQueueWithDlq, "encrypted": EncryptedQueue}


@pytest.fixture(scope="module", params=sorted(PATTERNS))
def built(request: pytest.FixtureRequest) -> dict:
    """A pattern with every argument left at its default, and its template's two queues."""
    stack = cdk.Stack(new_app(), "Defaults")
    pattern = PATTERNS[request.param](stack, "Jobs")
    template = template_of(stack)
    resolve = stack.resolve
    queues = template.find_resources("AWS::SQS::Queue")
    source_id = resolve(pattern.queue.node.default_child.logical_id)
    dlq_id = resolve(pattern.dead_letter_queue.node.default_child.logical_id)
    return {
        "kind": request.param,
        "stack": stack,
        "pattern": pattern,
        "template": template,
        "source": queues[source_id],
        "dlq": queues[dlq_id],
        "source_id": source_id,
        "dlq_id": dlq_id,
    }


def test_max_receive_count_is_5(built: dict) -> None:
    assert built["source"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5


def test_redrive_policy_targets_the_created_dlq(built: dict) -> None:
    target = built["source"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]
    assert target == {"Fn::GetAtt": [built["dlq_id"], "Arn"]}


def test_source_retention_is_4_days(built: dict) -> None:
    assert built["source"]["Properties"]["MessageRetentionPeriod"] == 4 * 86_400


def test_dlq_retention_is_14_days(built: dict) -> None:
    assert built["dlq"]["Properties"]["MessageRetentionPeriod"] == 14 * 86_400


def test_long_polling_20_seconds_on_queue_and_dlq(built: dict) -> None:
    assert built["source"]["Properties"]["ReceiveMessageWaitTimeSeconds"] == 20
    assert built["dlq"]["Properties"]["ReceiveMessageWaitTimeSeconds"] == 20


def test_max_message_size_is_1_mib(built: dict) -> None:
    assert built["source"]["Properties"]["MaximumMessageSize"] == 1_048_576
    assert built["dlq"]["Properties"]["MaximumMessageSize"] == 1_048_576


def test_visibility_timeout_30_seconds_and_no_delay(built: dict) -> None:
    assert built["source"]["Properties"]["VisibilityTimeout"] == 30
    assert built["source"]["Properties"]["DelaySeconds"] == 0


def test_tls_only_policy_on_queue_and_dlq(built: dict) -> None:
    policies = built["template"].find_resources("AWS::SQS::QueuePolicy")
    protected = set()
    for policy in policies.values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if (
                statement["Effect"] == "Deny"
                and statement["Action"] == "sqs:*"
                and statement["Principal"] == {"AWS": "*"}
                and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            ):
                protected.add(statement["Resource"]["Fn::GetAtt"][0])
    assert protected == {built["source_id"], built["dlq_id"]}


def test_encryption_is_explicit_on_queue_and_dlq(built: dict) -> None:
    for queue in (built["source"], built["dlq"]):
        props = queue["Properties"]
        if built["kind"] == "fifo":
            assert props["SqsManagedSseEnabled"] is True
            assert "KmsMasterKeyId" not in props
        else:
            assert props["KmsMasterKeyId"] == {"Fn::GetAtt": [_key_id(built), "Arn"]}
            assert props["KmsDataKeyReusePeriodSeconds"] == 300


def _key_id(built: dict) -> str:
    (key_id,) = built["template"].find_resources("AWS::KMS::Key")
    return key_id


def test_encrypted_queue_creates_a_rotating_kept_key(built: dict) -> None:
    keys = built["template"].find_resources("AWS::KMS::Key")
    if built["kind"] == "fifo":
        assert keys == {}
        assert built["pattern"].encryption_key is None
        return
    (key,) = keys.values()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["PendingWindowInDays"] == 30
    # The DLQ is kept, so the key that can decrypt its messages is kept too.
    assert key["DeletionPolicy"] == "Retain"


def test_dlq_redrive_allow_policy_names_its_source_only(built: dict) -> None:
    allow = built["dlq"]["Properties"]["RedriveAllowPolicy"]
    assert allow["redrivePermission"] == "byQueue"
    (source_arn,) = allow["sourceQueueArns"]
    name = built["source"]["Properties"]["QueueName"]
    # Built from the name with Stack.format_arn, not GetAtt: a GetAtt would make a dependency cycle.
    assert source_arn == {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":sqs:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, f":{name}"],
        ]
    }


def test_dlq_is_retained_and_source_is_destroyed(built: dict) -> None:
    assert built["dlq"]["DeletionPolicy"] == "Retain"
    assert built["dlq"]["UpdateReplacePolicy"] == "Retain"
    assert built["source"]["DeletionPolicy"] == "Delete"


def test_queue_and_dlq_have_the_same_type(built: dict) -> None:
    fifo = built["kind"] == "fifo"
    assert built["source"]["Properties"].get("FifoQueue", False) is fifo
    assert built["dlq"]["Properties"].get("FifoQueue", False) is fifo


def test_generated_names_are_stable_and_paired(built: dict) -> None:
    name = built["source"]["Properties"]["QueueName"]
    dlq_name = built["dlq"]["Properties"]["QueueName"]
    suffix = ".fifo" if built["kind"] == "fifo" else ""
    assert name == f"Defaults-Jobs-{name.split('-')[-1]}"
    assert name.endswith(suffix) and dlq_name == name.removesuffix(suffix) + "-dlq" + suffix
    assert len(dlq_name) <= 80


def test_fifo_defaults_deduplicate_per_queue() -> None:
    stack = cdk.Stack(new_app(), "FifoDefaults")
    FifoQueueWithDlq(stack, "Jobs")
    for queue in template_of(stack).find_resources("AWS::SQS::Queue").values():
        props = queue["Properties"]
        assert props["ContentBasedDeduplication"] is False
        assert "DeduplicationScope" not in props and "FifoThroughputLimit" not in props


def test_attributes_expose_the_values_in_force(built: dict) -> None:
    pattern = built["pattern"]
    assert pattern.max_receive_count == 5
    assert pattern.retention_period.to_days() == 4
    assert pattern.visibility_timeout.to_seconds() == 30
    assert pattern.visibility_timeout_given is False
    assert pattern.fifo is (built["kind"] == "fifo")


def test_high_throughput_sets_both_queues() -> None:
    stack = cdk.Stack(new_app(), "HighThroughput")
    FifoQueueWithDlq(stack, "Ingest", high_throughput=True)
    queues = template_of(stack).find_resources("AWS::SQS::Queue")
    assert len(queues) == 2
    for queue in queues.values():
        assert queue["Properties"]["DeduplicationScope"] == "messageGroup"
        assert queue["Properties"]["FifoThroughputLimit"] == "perMessageGroupId"


def test_fifo_with_kms_creates_a_key_for_both_queues() -> None:
    stack = cdk.Stack(new_app(), "FifoKms")
    pattern = FifoQueueWithDlq(stack, "Payments", encryption=sqs.QueueEncryption.KMS)
    template = template_of(stack)
    (key_id,) = template.find_resources("AWS::KMS::Key", {"Properties": {"EnableKeyRotation": True}})
    for queue in template.find_resources("AWS::SQS::Queue").values():
        assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert pattern.encryption_key is not None


def test_caller_removal_policies_are_applied() -> None:
    stack = cdk.Stack(new_app(), "Removal")
    EncryptedQueue(
        stack, "Scratch", removal_policy=cdk.RemovalPolicy.DESTROY, dead_letter_removal_policy=cdk.RemovalPolicy.DESTROY
    )
    template = template_of(stack)
    for queue in template.find_resources("AWS::SQS::Queue").values():
        assert queue["DeletionPolicy"] == "Delete"
    # With nothing kept, the key may go too, after KMS's 30-day waiting period.
    (key,) = template.find_resources("AWS::KMS::Key").values()
    assert key["DeletionPolicy"] == "Delete"
