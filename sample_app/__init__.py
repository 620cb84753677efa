"""The sample app: stacks that compose the constructs-sqs patterns, after the use cases of the SQS guide.

``app.py`` only calls :func:`build`; tests call it too, with the same cdk.json context.
"""

from .app import build

__all__ = ["build"]
