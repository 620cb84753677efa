"""A key made by a stack keeps its policy as JSON text, as ``CreateKey`` does.

moto's ``AWS::KMS::Key`` model stored the template's ``KeyPolicy`` object as it came, and ``DescribeKey``
(which serializes the policy) then failed with HTTP 500: every key of the sample app could not be described.
"""

from __future__ import annotations

from typing import Any

from .values import as_json_text


def apply() -> None:
    """``Key.create_from_cloudformation_json`` turns ``KeyPolicy`` into JSON text first."""
    from moto.kms.models import Key

    original = Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(cls: type[Key], /, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any) -> Key:
        props = cloudformation_json["Properties"]
        if "KeyPolicy" in props:
            props["KeyPolicy"] = as_json_text(props["KeyPolicy"])
        return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)  # type: ignore[no-any-return]

    Key.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]
