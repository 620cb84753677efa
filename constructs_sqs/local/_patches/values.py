"""How template values become API values: what every CloudFormation model of the emulator needs."""

from __future__ import annotations

import json
from typing import Any


def as_json_text(value: Any) -> str:
    """A policy or other JSON property as the API takes it: templates give objects, the API strings."""
    return value if isinstance(value, str) else json.dumps(value)


def as_bool(value: Any, default: bool) -> bool:
    """A template boolean (``true``, ``"true"``, ``"True"``) as a bool; ``default`` when absent."""
    if value is None:
        return default
    return value if isinstance(value, bool) else str(value).lower() == "true"


def queue_name(queue_url: str) -> str:
    """The queue name at the end of a queue URL (what ``Ref`` of an ``AWS::SQS::Queue`` gives)."""
    return queue_url.rstrip("/").rsplit("/", 1)[-1]
