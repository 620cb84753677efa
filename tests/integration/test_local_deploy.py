"""The sample app deployed with the real CDK CLI into the emulator (RELIABILITY E1)."""

from __future__ import annotations

SAMPLE_STACKS = ["ConstructsSqsOrders", "ConstructsSqsMedia", "ConstructsSqsEvents", "ConstructsSqsMonitoring"]


def test_every_sample_stack_is_created(deployed_sample_app):
    assert sorted(deployed_sample_app.stack_names) == sorted(SAMPLE_STACKS)
    assert {s.name: s.status for s in deployed_sample_app.stacks} == dict.fromkeys(SAMPLE_STACKS, "CREATE_COMPLETE")
    for stack in deployed_sample_app.stacks:
        not_created = [r.logical_id for r in stack.resources if r.physical_id is None]
        assert not_created == [], f"{stack.name}: no physical resource for {not_created}"
