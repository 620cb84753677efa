"""The jsii and aws-cdk-lib internals of constructs_sqs/_jsii.py still hold for the installed versions.

They are what breaks first when jsii or aws-cdk-lib changes; these tests say so by name instead of letting every
validation test fail at once.
"""

from __future__ import annotations

import ast
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import Token
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

import constructs_sqs
from constructs_sqs import _jsii
from constructs_sqs._validation import is_unresolved

PACKAGE = Path(constructs_sqs.__file__).parent
INTERNALS = ("__jsii_ifaces__", "__jsii_proxy_class__", "_delegates", "InterfaceDynamicProxy")


def test_a_construct_class_lists_its_interfaces_and_an_interface_its_proxy() -> None:
    declared = [i for base in sqs.Queue.__mro__ for i in base.__dict__.get("__jsii_ifaces__", ())]
    assert any(sqs.IQueue in getattr(interface, "__mro__", ()) for interface in declared), declared
    assert callable(sqs.IQueue.__dict__["__jsii_proxy_class__"])


def test_implements_answers_for_classes_proxies_and_dynamic_proxies(stack: cdk.Stack) -> None:
    queue = sqs.Queue(stack, "Queue")
    imported = sqs.Queue.from_queue_arn(stack, "Imported", "arn:aws:sqs:eu-west-1:111111111111:jobs")
    alias = kms.Alias.from_alias_name(stack, "Alias", "alias/aws/sqs")
    assert type(alias).__name__ == "InterfaceDynamicProxy"  # jsii's proxy over several interfaces
    assert _jsii.implements(queue, sqs.IQueue) and _jsii.implements(imported, sqs.IQueue)
    assert _jsii.implements(alias, kms.IAlias) and _jsii.implements(alias, kms.IKey)
    assert not _jsii.implements(alias, sqs.IQueue)
    assert not _jsii.implements(queue, lambda_.IFunction)
    assert not _jsii.implements("a queue", sqs.IQueue) and not _jsii.implements(None, sqs.IQueue)
    assert _jsii.type_name(alias) == "an imported resource" and _jsii.type_name(queue) == "Queue"


def test_the_token_markers_are_aws_cdk_lib_s_encoding(stack: cdk.Stack) -> None:
    queue = sqs.Queue(stack, "Queue")
    string = queue.queue_name
    number = Token.as_number(queue.node.default_child.get_att("ApproximateNumberOfMessages"))
    assert _jsii.STRING_TOKEN_MARKER in string and _jsii.is_encoded_token(string) and is_unresolved(string)
    assert _jsii.is_encoded_token(f"prefix-{string}-suffix")
    assert _jsii.is_encoded_token(number) and is_unresolved(number) and Token.is_unresolved(number)
    for literal in ("orders", "${Tok", 1.5, 0.0, float(2**52), -3.0):
        assert not _jsii.is_encoded_token(literal), literal
        assert not Token.is_unresolved(literal), literal


def test_no_other_module_reads_jsii_internals() -> None:
    """_jsii is the one small module that knows them (the local emulator patches moto, not jsii)."""
    for path in PACKAGE.rglob("*.py"):
        if path.name == "_jsii.py":
            continue
        strings = {
            node.value for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
        }
        names = {node.attr for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Attribute)}
        found = {name for name in INTERNALS if name in strings | names}
        assert not found, f"{path.relative_to(PACKAGE)} reads {sorted(found)}: move it to _jsii.py"
        assert "${Token[" not in path.read_text(), f"{path.relative_to(PACKAGE)} spells the token marker"


@pytest.mark.parametrize("name", ["EncryptedQueue", "FifoQueueWithDlq", "LambdaTriggeredQueue", "QueueAlarms", "QueueWorkerService"])
def test_keyword_signature_keeps_the_constructor_s_docstring_and_signature(name: str) -> None:
    import inspect

    cls = getattr(constructs_sqs, name)
    assert list(inspect.signature(cls).parameters)[:2] == ["scope", "id"]
    assert cls.__init__.__doc__ == cls.__doc__
