"""What the emulator changes in moto's Lambda: a layer's ``Ref``, and event source mappings kept off the queues.

- ``Ref`` of an ``AWS::Lambda::LayerVersion`` is its version ARN (moto 5.2.5 returned the object), so a
  function's ``Layers`` held no ARN.
- moto keeps the event source mappings but never consumes a queue for them (constructs-sqs rule E2). Without
  Docker, moto's mapping received a batch on every ``SendMessage``, failed to invoke the function and left
  the receive count raised, so healthy messages reached the DLQ. The mapping itself stays
  (``ListEventSourceMappings`` shows it); the queue just never learns of it. The local runner
  (``constructs_sqs.local.runner``) plays the mapping instead.
"""

from __future__ import annotations

from moto.sqs.models import Queue


def _patch_layer_version_ref() -> None:
    from moto.awslambda.models import LayerVersion

    LayerVersion.physical_resource_id = property(lambda self: self.arn)  # type: ignore[attr-defined]


def _detach_event_source_mappings() -> None:
    Queue.lambda_event_source_mappings = property(  # type: ignore[assignment]
        lambda self: {}, lambda self, value: None
    )


def apply() -> None:
    """The layer version's ``Ref``, and queues that see no event source mapping."""
    _patch_layer_version_ref()
    _detach_event_source_mappings()
