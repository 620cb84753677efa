"""Does every resource of the templates exist in the emulator's services, not just in its CloudFormation?

CloudFormation can record a resource that its service never got (moto 5.2.5 recorded skipped queue
policies and subscriptions with an empty physical id, and a bucket's notifications custom resource
that never ran). Each probe here asks the service itself: the queue policy is on the queue, the alarm
is in CloudWatch, the subscription is on the topic, the rule has its targets, the mapping is in Lambda,
the bucket has its policy and its notification configuration. What the emulator cannot do at all is a
listed gap (:mod:`.gaps`), reported apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from .deploy import DeployedResource, DeployedStack, Deployment
from .emulator import Emulator
from .gaps import Gap, gap_of

Probe = Callable[[Emulator, DeployedStack, DeployedResource], "str | None"]


def _physical_of(stack: DeployedStack, value: Any) -> str | None:
    """The physical id of the resource a ``Ref`` (or ``Fn::GetAtt``) in the template names."""
    if isinstance(value, dict):
        target = value.get("Ref") or (value.get("Fn::GetAtt") or [None])[0]
        if isinstance(target, str):
            try:
                return stack.resource(target).physical_id
            except KeyError:
                return None
    return value if isinstance(value, str) else None


def _queue(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    name = (resource.physical_id or "").rsplit("/", 1)[-1]
    emulator.client("sqs").get_queue_url(QueueName=name)
    return None


def _queue_policy(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    sqs = emulator.client("sqs")
    for reference in resource.properties.get("Queues", []):
        name = (_physical_of(stack, reference) or "").rsplit("/", 1)[-1]
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
        if not attributes.get("Policy"):
            return f"queue {name} has no policy"
    return None


def _topic_policy(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    sns = emulator.client("sns")
    for reference in resource.properties.get("Topics", []):
        arn = _physical_of(stack, reference)
        policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
        if policy.get("Id") == "__default_policy_ID":
            return f"topic {arn} still has the default policy"
    return None


def _subscription(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    attributes = emulator.client("sns").get_subscription_attributes(SubscriptionArn=resource.physical_id)["Attributes"]
    topic = _physical_of(stack, resource.properties.get("TopicArn"))
    if topic and attributes.get("TopicArn") != topic:
        return f"subscribed to {attributes.get('TopicArn')}, the template says {topic}"
    if attributes.get("Protocol") != resource.properties.get("Protocol"):
        return f"protocol {attributes.get('Protocol')}, the template says {resource.properties.get('Protocol')}"
    return None


def _alarm(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    alarms = emulator.client("cloudwatch").describe_alarms(AlarmNames=[resource.physical_id])["MetricAlarms"]
    return None if alarms else "not in CloudWatch"


def _dashboard(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    body = emulator.client("cloudwatch").get_dashboard(DashboardName=resource.physical_id)["DashboardBody"]
    return "its body holds an unresolved intrinsic" if '"Fn::' in body else None


def _rule(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    name = (resource.physical_id or "").rsplit("/", 1)[-1]
    targets = emulator.client("events").list_targets_by_rule(Rule=name)["Targets"]
    expected = len(resource.properties.get("Targets", []))
    return None if len(targets) == expected else f"{len(targets)} targets, the template has {expected}"


def _bucket(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    emulator.client("s3").head_bucket(Bucket=resource.physical_id)
    return None


def _bucket_policy(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    bucket = _physical_of(stack, resource.properties.get("Bucket"))
    policy = json.loads(emulator.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    expected = len(resource.properties.get("PolicyDocument", {}).get("Statement", []))
    found = len(policy.get("Statement", []))
    return None if found == expected else f"bucket {bucket} has {found} policy statements, the template {expected}"


NOTIFICATION_KINDS = ("QueueConfigurations", "TopicConfigurations", "LambdaFunctionConfigurations")


def _bucket_notifications(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    bucket = _physical_of(stack, resource.properties.get("BucketName"))
    configuration = emulator.client("s3").get_bucket_notification_configuration(Bucket=bucket)
    wanted = resource.properties.get("NotificationConfiguration", {})
    for kind in NOTIFICATION_KINDS:
        expected, found = len(wanted.get(kind, [])), len(configuration.get(kind, []))
        if found < expected:
            return f"bucket {bucket} has {found} {kind}, the template {expected}"
    if "EventBridgeConfiguration" in wanted and "EventBridgeConfiguration" not in configuration:
        return f"bucket {bucket} does not notify EventBridge"
    return None


def _auto_delete_objects(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    emulator.client("s3").head_bucket(Bucket=_physical_of(stack, resource.properties.get("BucketName")))
    return None


def _inline_policy(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    """``AWS::IAM::Policy``: an inline policy named ``PolicyName`` on each of its roles."""
    iam = emulator.client("iam")
    name = resource.properties.get("PolicyName")
    if not isinstance(name, str):
        return None  # a computed name: CloudFormation's record is all there is to check
    for reference in resource.properties.get("Roles", []):
        iam.get_role_policy(RoleName=_physical_of(stack, reference), PolicyName=name)
    return None


def _layer_version(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    # arn:aws:lambda:<region>:<account>:layer:<name>:<version>; moto has no GetLayerVersionByArn.
    *_, name, version = (resource.physical_id or "").split(":")
    emulator.client("lambda").get_layer_version(LayerName=name, VersionNumber=int(version))
    return None


def _ecs_cluster(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    clusters = emulator.client("ecs").describe_clusters(clusters=[resource.physical_id or ""])["clusters"]
    if not clusters:
        return "not in ECS"
    wanted = {s.get("Name"): str(s.get("Value")) for s in resource.properties.get("ClusterSettings", [])}
    found = {s.get("name"): s.get("value") for s in clusters[0].get("settings", [])}
    if "containerInsights" in wanted and found.get("containerInsights") != wanted["containerInsights"]:
        return f"containerInsights is {found.get('containerInsights')!r}, the template says {wanted['containerInsights']!r}"
    return None


def _capacity_providers(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    clusters = emulator.client("ecs").describe_clusters(clusters=[resource.physical_id or ""])["clusters"]
    found = set(clusters[0].get("capacityProviders", [])) if clusters else set()
    missing = set(resource.properties.get("CapacityProviders", [])) - found
    return f"cluster {resource.physical_id} lacks capacity providers {sorted(missing)}" if missing else None


def _route(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    table = _physical_of(stack, resource.properties.get("RouteTableId"))
    cidr = resource.properties.get("DestinationCidrBlock")
    routes = emulator.client("ec2").describe_route_tables(RouteTableIds=[table or ""])["RouteTables"][0]["Routes"]
    return None if any(r.get("DestinationCidrBlock") == cidr for r in routes) else f"route table {table} has no route to {cidr}"


def _route_table_association(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    # moto lists an association created by CloudFormation without its subnet: the route table is what can be checked.
    table = _physical_of(stack, resource.properties.get("RouteTableId"))
    emulator.client("ec2").describe_route_tables(RouteTableIds=[table or ""])
    return None


def _gateway_attachment(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    gateway = _physical_of(stack, resource.properties.get("InternetGatewayId"))
    vpc = _physical_of(stack, resource.properties.get("VpcId"))
    gateways = emulator.client("ec2").describe_internet_gateways(InternetGatewayIds=[gateway or ""])["InternetGateways"]
    attached = [a.get("VpcId") for g in gateways for a in g.get("Attachments", [])]
    return None if vpc in attached else f"internet gateway {gateway} is not attached to {vpc}"


def _ecs_service(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    cluster = _physical_of(stack, resource.properties.get("Cluster")) or "default"
    services = emulator.client("ecs").describe_services(cluster=cluster, services=[resource.physical_id or ""])["services"]
    return None if services else f"not in ECS cluster {cluster}"


def _task_definition(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    found = emulator.client("ecs").describe_task_definition(taskDefinition=resource.physical_id or "")["taskDefinition"]
    expected = len(resource.properties.get("ContainerDefinitions", []))
    containers = len(found.get("containerDefinitions", []))
    return None if containers == expected else f"{containers} containers, the template has {expected}"


def _scalable_target(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    resource_id, dimension, namespace = (resource.physical_id or "||").split("|")
    targets = emulator.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace=namespace, ResourceIds=[resource_id], ScalableDimension=dimension
    )["ScalableTargets"]
    return None if targets else "not in Application Auto Scaling"


def _scaling_policy(emulator: Emulator, stack: DeployedStack, resource: DeployedResource) -> str | None:
    # arn:aws:autoscaling:<region>:<account>:scalingPolicy:<id>:resource/<namespace>/<resource id>:policyName/<name>
    arn = resource.physical_id or ""
    namespace = arn.split(":resource/", 1)[-1].split("/", 1)[0]
    policies = emulator.client("application-autoscaling").describe_scaling_policies(ServiceNamespace=namespace)["ScalingPolicies"]
    return None if any(p["PolicyARN"] == arn for p in policies) else "not in Application Auto Scaling"


PROBES: Mapping[str, Probe] = {
    "AWS::SQS::Queue": _queue,
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::SNS::Topic": lambda e, s, r: (e.client("sns").get_topic_attributes(TopicArn=r.physical_id), None)[1],
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::SNS::Subscription": _subscription,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::Dashboard": _dashboard,
    "AWS::Events::Rule": _rule,
    "AWS::KMS::Key": lambda e, s, r: (e.client("kms").describe_key(KeyId=r.physical_id), None)[1],
    "AWS::IAM::Role": lambda e, s, r: (e.client("iam").get_role(RoleName=r.physical_id), None)[1],
    "AWS::IAM::ManagedPolicy": lambda e, s, r: (e.client("iam").get_policy(PolicyArn=r.physical_id), None)[1],
    "AWS::IAM::Policy": _inline_policy,
    "AWS::Logs::LogGroup": lambda e, s, r: None
    if e.client("logs").describe_log_groups(logGroupNamePrefix=r.physical_id)["logGroups"]
    else "not in CloudWatch Logs",
    "AWS::Lambda::Function": lambda e, s, r: (e.client("lambda").get_function(FunctionName=r.physical_id), None)[1],
    "AWS::Lambda::LayerVersion": _layer_version,
    "AWS::Lambda::EventSourceMapping": lambda e, s, r: (e.client("lambda").get_event_source_mapping(UUID=r.physical_id), None)[1],
    "AWS::S3::Bucket": _bucket,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "Custom::S3BucketNotifications": _bucket_notifications,
    "Custom::S3AutoDeleteObjects": _auto_delete_objects,
    "AWS::ECS::Cluster": _ecs_cluster,
    "AWS::ECS::Service": _ecs_service,
    "AWS::ECS::ClusterCapacityProviderAssociations": _capacity_providers,
    "AWS::ECS::TaskDefinition": _task_definition,
    "AWS::ApplicationAutoScaling::ScalableTarget": _scalable_target,
    "AWS::ApplicationAutoScaling::ScalingPolicy": _scaling_policy,
    "AWS::EC2::VPC": lambda e, s, r: (e.client("ec2").describe_vpcs(VpcIds=[r.physical_id or ""]), None)[1],
    "AWS::EC2::Subnet": lambda e, s, r: (e.client("ec2").describe_subnets(SubnetIds=[r.physical_id or ""]), None)[1],
    "AWS::EC2::SecurityGroup": lambda e, s, r: (e.client("ec2").describe_security_groups(GroupIds=[r.physical_id or ""]), None)[1],
    "AWS::EC2::RouteTable": lambda e, s, r: (e.client("ec2").describe_route_tables(RouteTableIds=[r.physical_id or ""]), None)[1],
    "AWS::EC2::Route": _route,
    "AWS::EC2::SubnetRouteTableAssociation": _route_table_association,
    "AWS::EC2::InternetGateway": lambda e, s, r: (e.client("ec2").describe_internet_gateways(InternetGatewayIds=[r.physical_id or ""]), None)[1],
    "AWS::EC2::VPCGatewayAttachment": _gateway_attachment,
    "AWS::EC2::NatGateway": lambda e, s, r: None
    if e.client("ec2").describe_nat_gateways(NatGatewayIds=[r.physical_id or ""])["NatGateways"]
    else "not in EC2",
    "AWS::EC2::EIP": lambda e, s, r: (e.client("ec2").describe_addresses(PublicIps=[r.physical_id or ""]), None)[1],
    "AWS::EC2::FlowLog": lambda e, s, r: None
    if e.client("ec2").describe_flow_logs(FlowLogIds=[r.physical_id or ""])["FlowLogs"]
    else "not in EC2",
}
"""One probe per resource type of the sample app, of a bucket's notifications and of a worker service; each
returns None when the service has the resource."""


def gaps_in(deployment: Deployment) -> dict[tuple[str, str], Gap]:
    """The resources of every deployed stack that are a gap the documentation lists (:mod:`.gaps`), by (stack, logical id)."""
    found = {}
    for stack in deployment.stacks:
        for resource in stack.resources:
            gap = gap_of(resource.type)
            if gap is not None:
                found[(stack.name, resource.logical_id)] = gap
    return found


def check_resources(emulator: Emulator, deployment: Deployment) -> dict[tuple[str, str], str | None]:
    """For every resource of every deployed stack, None when its service has it, else the problem.

    A resource without a physical id is "not created"; a type without a probe is trusted to
    CloudFormation's record; a listed gap (:func:`gaps_in`) is not probed: it is None when CloudFormation
    recorded it.
    """
    results: dict[tuple[str, str], str | None] = {}
    for stack in deployment.stacks:
        for resource in stack.resources:
            key = (stack.name, resource.logical_id)
            if not resource.physical_id:
                results[key] = "not created"
                continue
            probe = PROBES.get(resource.type)
            if probe is None or gap_of(resource.type) is not None:
                results[key] = None
                continue
            try:
                results[key] = probe(emulator, stack, resource)
            except Exception as error:  # noqa: BLE001 - any service error means "not there"
                first_line = str(error).splitlines()[0] if str(error) else ""
                results[key] = f"{type(error).__name__}: {first_line[:200]}"
    return results
