"""Application Auto Scaling resources of a stack, created through moto's Application Auto Scaling backend.

moto 5.2.5 has the service (``RegisterScalableTarget``, ``PutScalingPolicy``, ``Describe*``) but its
CloudFormation knows neither ``AWS::ApplicationAutoScaling::ScalableTarget`` nor
``AWS::ApplicationAutoScaling::ScalingPolicy``: it records them with an empty physical id and the service never
hears of them, so a worker service deploys "complete" with no scaling at all, and the policy ``Ref`` that a
step-scaling alarm names as its action is empty. Each model below makes the call the API would make:

- a scalable target is registered with its namespace, resource id, dimension and capacities; its ``Ref`` is
  CloudFormation's ``resourceId|scalableDimension|serviceNamespace`` (what a policy's ``ScalingTargetId`` names);
- a policy is put with its ``StepScalingPolicyConfiguration`` or ``TargetTrackingScalingPolicyConfiguration`` as
  the template has it (``CustomizedMetricSpecification.Metrics`` metric math included); its ``Ref`` and
  ``Arn`` are the policy ARN. moto adds two CPU alarms to every ECS target-tracking policy whatever its metric;
  those are removed for a policy with a customized metric (AWS's alarms watch that metric, and moto evaluates
  no alarm anyway), so ``DescribeAlarms`` shows no alarm the template does not imply.

``constructs_sqs.local.autoscaler`` reads these back from the service to play the policy locally.
"""

from __future__ import annotations

from typing import Any

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

RESOURCE_TYPES = (
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
)
"""The types this module teaches moto's CloudFormation."""


def target_id(resource_id: str, dimension: str, namespace: str) -> str:
    """CloudFormation's physical id of a scalable target: ``resourceId|scalableDimension|serviceNamespace``."""
    return f"{resource_id}|{dimension}|{namespace}"


class ScalableTargetResource(CloudFormationModel):
    """``AWS::ApplicationAutoScaling::ScalableTarget``: ``RegisterScalableTarget``."""

    def __init__(self, resource_id: str, dimension: str, namespace: str, account_id: str, region_name: str) -> None:
        self.resource_id = resource_id
        self.dimension = dimension
        self.namespace = namespace
        self.account_id = account_id
        self.region_name = region_name

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApplicationAutoScaling::ScalableTarget"

    @property
    def physical_resource_id(self) -> str:
        return target_id(self.resource_id, self.dimension, self.namespace)

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> ScalableTargetResource:
        props = cloudformation_json["Properties"]
        suspended = props.get("SuspendedState")
        applicationautoscaling_backends[account_id][region_name].register_scalable_target(
            namespace=props["ServiceNamespace"],
            r_id=props["ResourceId"],
            dimension=props["ScalableDimension"],
            min_capacity=int(props["MinCapacity"]),
            max_capacity=int(props["MaxCapacity"]),
            role_arn=props.get("RoleARN", ""),
            suspended_state=suspended,
        )
        return cls(props["ResourceId"], props["ScalableDimension"], props["ServiceNamespace"], account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = applicationautoscaling_backends[account_id][region_name]
        backend.deregister_scalable_target(self.namespace, self.resource_id, self.dimension)


class ScalingPolicyResource(CloudFormationModel):
    """``AWS::ApplicationAutoScaling::ScalingPolicy``: ``PutScalingPolicy``; ``Ref`` and ``Arn`` are its ARN."""

    def __init__(self, arn: str, key: tuple[str, str, str, str], account_id: str, region_name: str) -> None:
        self.arn = arn
        self.key = key
        self.account_id = account_id
        self.region_name = region_name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "PolicyName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApplicationAutoScaling::ScalingPolicy"

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Arn":
            return self.arn
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> ScalingPolicyResource:
        props = cloudformation_json["Properties"]
        if props.get("ScalingTargetId"):
            resource_id, dimension, namespace = str(props["ScalingTargetId"]).split("|")
        else:
            resource_id, dimension, namespace = props["ResourceId"], props["ScalableDimension"], props["ServiceNamespace"]
        policy_type = props["PolicyType"]
        body = props.get("StepScalingPolicyConfiguration") or props.get("TargetTrackingScalingPolicyConfiguration") or {}
        name = props.get("PolicyName") or resource_name
        backend = applicationautoscaling_backends[account_id][region_name]
        policy = backend.put_scaling_policy(name, namespace, resource_id, dimension, body, policy_type)
        if "CustomizedMetricSpecification" in body and policy.alarms:
            policy.delete_alarms(account_id, region_name)
            policy.alarms = []
        return cls(policy.policy_arn, (name, namespace, resource_id, dimension), account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        name, namespace, resource_id, dimension = self.key
        applicationautoscaling_backends[account_id][region_name].delete_scaling_policy(name, namespace, resource_id, dimension)


def apply() -> None:
    """Nothing to patch: importing this module registers the two models with moto's CloudFormation."""
