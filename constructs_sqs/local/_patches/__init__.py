"""What the local emulator teaches moto 5.2.5, one module per concern.

Imported only inside the emulator process (``python -m constructs_sqs.local.server``): :func:`apply`
changes moto's behaviour for the whole process. Each module's docstring says what moto does without it
and why that matters; the documentation's "Emulator gaps" table lists them from a user's side, and
``make conformance`` runs moto's own tests against the patched server to show they regress nothing.

- :mod:`.version`: the moto release the patches need, checked before anything is patched;
- :mod:`.cloudformation_models`: resource types moto's CloudFormation skips (alarms, queue and topic
  policies, subscriptions);
- :mod:`.cloudformation_stacks`: outputs and exports of change-set stacks, ``Fn::GetStackOutput``;
- :mod:`.sqs_attributes`: queue attributes as SQS reports them;
- :mod:`.sqs_speed`: operations that do not grow with the queue's depth;
- :mod:`.sqs_receive`: receives as SQS makes them: FIFO group order (after visibility timeouts and
  into the DLQ too), long polls that wait on a condition instead of spinning, atomic changes;
- :mod:`.s3`: bucket policies (evaluated for TLS requests, :mod:`.conditions`), the CDK's bucket
  notifications and auto-delete custom resources, inline bucket notifications;
- :mod:`.kms`: key policies of stack-made keys;
- :mod:`.awslambda`: a layer version's ``Ref``; event source mappings kept off the queues (constructs-sqs rule E2);
- :mod:`.ecs`: ECS clusters, task definitions and services with the template's settings (container insights,
  Fargate, roles, network configuration);
- :mod:`.appautoscaling`: Application Auto Scaling scalable targets and scaling policies of a stack (a worker
  service's scaling, which ``python -m constructs_sqs.local run`` plays).
"""

from __future__ import annotations

from .patchset import apply
from .version import MOTO_VERSION, MotoVersionError, check_moto_version

__all__ = ["MOTO_VERSION", "MotoVersionError", "apply", "check_moto_version"]
