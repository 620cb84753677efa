"""How moto's CloudFormation runs a stack, where the CDK CLI needs what CloudFormation does.

- Stacks created through a change set (how the CDK CLI deploys) get their outputs and exports: moto 5.2.5
  creates the stack of a CREATE change set with an empty template and never evaluates ``Outputs``, so
  ``describe_stacks`` showed none and ``Fn::ImportValue`` found no export.
- ``Fn::GetStackOutput`` (the weak cross-stack references the sample app's cdk.json turns on) resolves
  as CloudFormation's does: moto left the intrinsic in place, so the sample dashboard's body held
  ``{"Fn::GetStackOutput": ...}``.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend, cloudformation_backends


def _patch_change_set_outputs() -> None:
    """Here the stack sees the region's exports while it is created, and afterwards its outputs are
    evaluated and its exports registered, as moto's ``create_stack`` already does."""
    original = CloudFormationBackend.execute_change_set

    def execute_change_set(self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        stack = self.stacks[change_set.stack_id]  # type: ignore[union-attr]
        stack.cross_stack_resources = self.exports
        stack.resource_map.cross_stack_resources = self.exports
        original(self, change_set_name, stack_name)
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        exports = {export.name: export for export in stack.exports}
        clashes = [name for name in exports if name in self.exports and self.exports[name].exporting_stack_id != stack.stack_id]
        if clashes:
            raise ValidationError(stack.stack_id, message=f"Export names must be unique across a region: {clashes}")
        self.exports.update(exports)

    CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]


def _stack_output(spec: dict[str, Any], resources_map: parsing.ResourceMap) -> Any:
    """The value of ``Fn::GetStackOutput``: an output of another stack of the same account."""
    clean = parsing.clean_json
    stack_name = clean(spec["StackName"], resources_map)
    output_name = clean(spec["OutputName"], resources_map)
    region = clean(spec.get("Region"), resources_map) or resources_map["AWS::Region"]
    account_id = resources_map["AWS::AccountId"]
    backend = cloudformation_backends[account_id][region]  # type: ignore[index]
    for stack in backend.stacks.values():
        if stack.name == stack_name and stack.status.endswith("_COMPLETE") and not stack.status.startswith("DELETE"):
            output = stack.output_map[output_name] if output_name in stack.output_map.outputs else None
            if output is None:
                raise ValidationError(message=f"Stack {stack_name} has no output {output_name}")
            return output.value
    raise ValidationError(message=f"Fn::GetStackOutput: no stack {stack_name} in {account_id}/{region}")


def _patch_get_stack_output() -> None:
    original = parsing.clean_json

    def clean_json(resource_json: Any, resources_map: parsing.ResourceMap) -> Any:
        if isinstance(resource_json, dict) and "Fn::GetStackOutput" in resource_json:
            return _stack_output(resource_json["Fn::GetStackOutput"], resources_map)
        return original(resource_json, resources_map)

    parsing.clean_json = clean_json


def apply() -> None:
    """Change-set outputs and exports, and ``Fn::GetStackOutput``."""
    _patch_change_set_outputs()
    _patch_get_stack_output()
