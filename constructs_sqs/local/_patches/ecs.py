"""ECS resources of a stack as the template declares them, not only their names.

moto 5.2.5's CloudFormation creates ``AWS::ECS::Cluster``, ``AWS::ECS::TaskDefinition`` and ``AWS::ECS::Service``
but drops most of their properties: a cluster loses its ``ClusterSettings`` (container insights reads
``disabled`` where the template says ``enabled``, and the backlog-per-task metric of a worker service needs it),
a task definition loses its launch compatibility, network mode, CPU, task and execution roles, and a service
its launch type and network configuration (the VPC subnets and security groups a Fargate task runs in); and
``AWS::ECS::ClusterCapacityProviderAssociations`` (Fargate and Fargate Spot on a cluster) is not created at all.
Each model's ``create_from_cloudformation_json`` is replaced by one that passes those properties to the same
backend call the API makes (``CreateCluster``, ``RegisterTaskDefinition``, ``CreateService``,
``PutClusterCapacityProviders``), so ``Describe*`` show what AWS would. The local runner (``constructs_sqs.local.workers``) reads the task definition's container
(command, environment, stop timeout) from here to start worker processes.
"""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.ecs import models as ecs_models

RESOURCE_TYPES = ("AWS::ECS::ClusterCapacityProviderAssociations",)
"""The type this module teaches moto's CloudFormation (the other three it already knows)."""


def _camel(value: Any) -> Any:
    return remap_nested_keys(value, pascal_to_camelcase) if value is not None else None


def _name_of(value: Any, attribute: str) -> Any:
    """A ``Ref`` moto resolved to its model object, or the string it resolved to."""
    return getattr(value, attribute) if hasattr(value, attribute) else value


def _cluster(cls: Any, /, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any) -> Any:
    props = cloudformation_json.get("Properties", {})
    return ecs_models.ecs_backends[account_id][region_name].create_cluster(
        cluster_name=resource_name,
        tags=_camel(props.get("Tags")),
        cluster_settings=_camel(props.get("ClusterSettings")),
        capacity_providers=props.get("CapacityProviders"),
        default_capacity_provider_strategy=_camel(props.get("DefaultCapacityProviderStrategy")),
    )


def _task_definition(cls: Any, /, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any) -> Any:
    props = cloudformation_json["Properties"]
    family = props.get("Family") or resource_name
    return ecs_models.ecs_backends[account_id][region_name].register_task_definition(
        family=family,
        container_definitions=_camel(props.get("ContainerDefinitions", [])),
        volumes=_camel(props.get("Volumes", [])),
        network_mode=props.get("NetworkMode"),
        tags=_camel(props.get("Tags")),
        requires_compatibilities=props.get("RequiresCompatibilities"),
        cpu=props.get("Cpu"),
        memory=props.get("Memory"),
        task_role_arn=props.get("TaskRoleArn"),
        execution_role_arn=props.get("ExecutionRoleArn"),
        runtime_platform=_camel(props.get("RuntimePlatform")),
        ephemeral_storage=_camel(props.get("EphemeralStorage")),
    )


def _service(cls: Any, /, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any) -> Any:
    props = cloudformation_json["Properties"]
    cluster = _name_of(props.get("Cluster") or "default", "name")
    task_definition = _name_of(props.get("TaskDefinition"), "arn")
    network = _camel(props.get("NetworkConfiguration"))
    return ecs_models.ecs_backends[account_id][region_name].create_service(
        cluster,
        props.get("ServiceName") or resource_name,
        props.get("DesiredCount", 1),
        task_definition_str=task_definition,
        tags=_camel(props.get("Tags")),
        launch_type=props.get("LaunchType"),
        platform_version=props.get("PlatformVersion"),
        propagate_tags=props.get("PropagateTags") or "NONE",
        network_configuration=network,
    )


class CapacityProviderAssociationsResource(CloudFormationModel):
    """``AWS::ECS::ClusterCapacityProviderAssociations`` (``enable_fargate_capacity_providers``, Fargate Spot):
    ``PutClusterCapacityProviders``; its ``Ref`` is the cluster's name."""

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ECS::ClusterCapacityProviderAssociations"

    @property
    def physical_resource_id(self) -> str:
        return self.cluster

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
    ) -> CapacityProviderAssociationsResource:
        props = cloudformation_json["Properties"]
        cluster = _name_of(props["Cluster"], "name")
        ecs_models.ecs_backends[account_id][region_name].put_cluster_capacity_providers(
            cluster, props.get("CapacityProviders", []), _camel(props.get("DefaultCapacityProviderStrategy", []))
        )
        return cls(cluster)


def apply() -> None:
    """Replace the three models' ``create_from_cloudformation_json``."""
    ecs_models.Cluster.create_from_cloudformation_json = classmethod(_cluster)  # type: ignore[assignment]
    ecs_models.TaskDefinition.create_from_cloudformation_json = classmethod(_task_definition)  # type: ignore[assignment]
    ecs_models.Service.create_from_cloudformation_json = classmethod(_service)  # type: ignore[assignment]
