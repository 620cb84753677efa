"""One source per signature: each arguments dataclass is tied to the constructors that fill it from locals()."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass

import pytest

import constructs_sqs as c
from constructs_sqs._add_alarms import AlarmsMixin
from constructs_sqs._queue_base import QueueOptions
from constructs_sqs._validation import arguments_of
from constructs_sqs.lambda_triggered_queue import ConsumerArguments
from constructs_sqs.queue_worker_service import WorkerArguments
from constructs_sqs.alarms import AlarmsArguments

TIES = [
    (QueueOptions, c.EncryptedQueue, {"encryption_master_key", "data_key_reuse"}),
    (QueueOptions, c.FifoQueueWithDlq,
     {"encryption", "encryption_master_key", "data_key_reuse", "content_based_deduplication", "high_throughput"}),
    (ConsumerArguments, c.LambdaTriggeredQueue, set()),
    (WorkerArguments, c.QueueWorkerService, set()),
    (AlarmsArguments, c.QueueAlarms, set()),
]


@pytest.mark.parametrize(("arguments", "construct", "own"), TIES, ids=lambda v: getattr(v, "__name__", ""))
def test_every_field_is_a_constructor_argument_with_the_same_default(
    arguments: type, construct: type, own: set[str]
) -> None:
    fields = {f.name: f.default for f in dataclasses.fields(arguments)}
    parameters = {
        name: p.default for name, p in inspect.signature(construct.__init__).parameters.items()
        if name not in ("self", "scope", "id")
    }
    assert set(fields) <= set(parameters), f"{arguments.__name__} fields missing from {construct.__name__}"
    assert set(parameters) - set(fields) == own, "an argument the dataclass does not carry must be handled apart"
    for name, default in fields.items():
        if default is not dataclasses.MISSING:
            assert parameters[name] == default, f"{construct.__name__}({name}=...) default differs from the field's"


def test_add_alarms_is_tied_to_queue_alarms_through_alarms_arguments() -> None:
    spelled = set(inspect.signature(AlarmsMixin.add_alarms).parameters) - {"self"}
    fields = {f.name for f in dataclasses.fields(AlarmsArguments)}
    assert spelled == fields - {"queue", "dead_letter_queue", "consumer_function"}


def test_a_renamed_argument_fails_loudly_instead_of_dropping_to_its_default() -> None:
    @dataclass
    class Arguments:
        size: int = 1

    assert arguments_of(Arguments, {"size": 5, "other": 0}) == Arguments(size=5)
    with pytest.raises(TypeError, match=r"Arguments fields \['size'\] are not arguments of the constructor"):
        arguments_of(Arguments, {"sized": 5})
