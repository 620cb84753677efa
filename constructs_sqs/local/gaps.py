"""The emulator's gaps that a deploy meets, by resource type: what it reports as a listed gap, not a failure.

A deploy (``python -m constructs_sqs.local deploy``) exits 0 when every stack is complete and every
resource either exists in its service or is one of the gaps below, each listed in the README's "Emulator
gaps" table (``tests/integration/test_local_user_app.py`` checks that the table names each). Any other
resource that is missing fails the deploy: the emulator cannot stand in for it, and nobody said so yet.
Only the standard library is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass

EMULATED_CUSTOM_TYPES = ("Custom::S3BucketNotifications", "Custom::S3AutoDeleteObjects")
"""The aws-cdk-lib custom resources the emulator performs itself (their Lambda handlers need Docker)."""


@dataclass(frozen=True)
class Gap:
    """A kind of resource the emulator records but cannot make work, and what that means for the user."""

    pattern: str
    """A resource type, or a prefix ending in ``*`` (``Custom::*``)."""
    consequence: str
    """One line for the deploy's summary: what does not happen locally."""
    readme: str
    """The words of the README's "Emulator gaps" row that lists this gap (checked by a test)."""

    def matches(self, resource_type: str) -> bool:
        """Whether ``resource_type`` is this gap's type, or starts with its prefix."""
        if self.pattern.endswith("*"):
            return resource_type.startswith(self.pattern[:-1])
        return resource_type == self.pattern


GAPS = (
    Gap(
        "Custom::*",
        "a custom resource backed by a Lambda: CloudFormation records it, its handler never runs (no Docker), "
        "so it does nothing and Fn::GetAtt of its data is empty",
        "custom resources backed by a Lambda function",
    ),
)
"""Every gap a deploy may meet, in the order the summary lists them."""


def gap_of(resource_type: str) -> Gap | None:
    """The listed gap ``resource_type`` falls under, or None (the emulator performs it, or it is a failure)."""
    if resource_type in EMULATED_CUSTOM_TYPES:
        return None
    return next((gap for gap in GAPS if gap.matches(resource_type)), None)
