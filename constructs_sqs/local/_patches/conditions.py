"""Policy conditions on what the emulator knows about a request: every request counts as made over TLS.

moto evaluates a bucket policy's statements for object requests but not their conditions (it knows only
``StringEquals``, and treats every other operator as met), so a ``Deny`` meant for plain-HTTP requests
(``aws:SecureTransport`` is ``false``) or for old TLS (``s3:TlsVersion`` below 1.2) denies everything. The
emulator speaks plain HTTP on the loopback interface, standing for the HTTPS that SDKs and the CDK CLI
use against AWS, so it evaluates those keys as a TLS 1.3 request would have them
(:data:`TLS_REQUEST_CONTEXT`), and leaves conditions on any other key to moto, as before. Pure functions:
no moto import (the tests use them directly).
"""

from __future__ import annotations

from typing import Any

TLS_REQUEST_CONTEXT = {"aws:securetransport": "true", "s3:tlsversion": "1.3"}
"""What the emulator vouches for about every request (keys lower-case: condition keys are case-insensitive)."""

_NUMERIC = {
    "NumericEquals": lambda a, b: a == b,
    "NumericNotEquals": lambda a, b: a != b,
    "NumericLessThan": lambda a, b: a < b,
    "NumericLessThanEquals": lambda a, b: a <= b,
    "NumericGreaterThan": lambda a, b: a > b,
    "NumericGreaterThanEquals": lambda a, b: a >= b,
}


def _condition_holds(operator: str, actual: str, expected: Any) -> bool | None:
    """Whether ``actual`` satisfies ``operator`` against ``expected`` (a value or a list: any of them);
    None for an operator this evaluation does not know (the condition is left to moto)."""
    base = operator.removesuffix("IfExists")
    values = [str(value).lower() if isinstance(value, bool) else str(value) for value in (expected if isinstance(expected, list) else [expected])]
    if base == "Bool":
        return any(actual.lower() == value.lower() for value in values)
    if base in ("StringEquals", "StringEqualsIgnoreCase"):
        return any(actual.lower() == value.lower() if base.endswith("IgnoreCase") else actual == value for value in values)
    if base in ("StringNotEquals", "StringNotEqualsIgnoreCase"):
        return all(actual.lower() != value.lower() if base.endswith("IgnoreCase") else actual != value for value in values)
    if base in _NUMERIC:
        try:
            return any(_NUMERIC[base](float(actual), float(value)) for value in values)
        except ValueError:
            return False
    return None


def policy_for_request(policy: dict[str, Any], context: dict[str, str] | None = None) -> dict[str, Any]:
    """``policy`` with its conditions on the keys of ``context`` evaluated: a statement whose condition on
    such a key is false is dropped (it does not apply to the request), a condition that holds is removed
    (it does), and conditions on other keys stay for moto to judge."""
    context = TLS_REQUEST_CONTEXT if context is None else context
    statements = policy.get("Statement", [])
    kept = []
    for statement in statements if isinstance(statements, list) else [statements]:
        conditions = statement.get("Condition")
        if not conditions:
            kept.append(statement)
            continue
        remaining: dict[str, Any] = {}
        applies = True
        for operator, tests in conditions.items():
            for key, expected in tests.items():
                actual = context.get(key.lower())
                verdict = None if actual is None else _condition_holds(operator, actual, expected)
                if verdict is None:
                    remaining.setdefault(operator, {})[key] = expected
                elif not verdict:
                    applies = False
        if applies:
            kept.append({**{k: v for k, v in statement.items() if k != "Condition"}, **({"Condition": remaining} if remaining else {})})
    return {**policy, "Statement": kept}
