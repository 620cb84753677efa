"""Checks that run when a pattern is constructed, before synth.

Every check adds a problem to a :class:`Problems` collector instead of raising, so a caller who got three
arguments wrong learns about all three at once. A problem names the argument, shows the bad value and
says what would be valid; a value of the wrong type names the type given and the type expected. Values
that are unresolved tokens pass the range checks: they are known only at deploy.

The checks answer in Python where Python already knows: a token is recognised by its encoding and an
interface by the jsii class declarations (both in ``_jsii``, the one module that reads such internals), and the
length of a ``Duration`` is read from node once per object and cached, so validating a construct costs few calls
into jsii.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_cdk import Acknowledgment, Duration, Token, Validations
from constructs import Construct

from . import _limits
from ._jsii import implements, is_encoded_token, type_name

if TYPE_CHECKING:
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_sqs as sqs
    from constructs import IConstruct

__all__ = [
    "ConfigurationError",
    "Kind",
    "arguments_of",
    "Problems",
    "acknowledge",
    "claim",
    "describe_duration",
    "environment_of",
    "format_duration",
    "implements",
    "is_aws_managed_key",
    "is_aws_managed_sqs_key",
    "is_unresolved",
    "retention_of",
    "seconds_of",
]

QUEUE_NAME_MAX_LENGTH = _limits.QUEUE_NAME_MAX_LENGTH
FIFO_SUFFIX = ".fifo"
_QUEUE_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]+")
AWS_MANAGED_SQS_KEY_ALIAS = "alias/aws/sqs"
SQS_DEFAULT_RETENTION_PERIOD = Duration.days(4)
"""What SQS keeps a message for when ``MessageRetentionPeriod`` is not set."""
SQS_DEFAULT_VISIBILITY_TIMEOUT = Duration.seconds(30)
"""SQS's visibility timeout when ``VisibilityTimeout`` is not set."""

_Arguments = TypeVar("_Arguments")


class ConfigurationError(ValueError):
    """Raised at construction when a pattern's arguments are invalid.

    The message lists every problem found in the call, one per line; ``problems`` holds them as a list.

    Parameters
    ----------
    where:
        The construct path (or ``path.method``) of the call.
    problems:
        One message per invalid argument.

    Attributes
    ----------
    where, problems:
        As given.
    """

    def __init__(self, where: str, problems: list[str]) -> None:
        self.where = where
        self.problems = list(problems)
        listed = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{where}: {count} configuration {noun}:\n{listed}")


# --- Tokens and interfaces, answered in Python --------------------------------------------------------


def is_unresolved(value: object) -> bool:
    """True when ``value`` is a token (known only at deploy), decided without a call into node for
    strings, numbers and None."""
    if value is None or isinstance(value, (bool, int)):
        return False
    if isinstance(value, (str, float)):
        return is_encoded_token(value)
    return bool(Token.is_unresolved(value))


# --- Durations --------------------------------------------------------------------------------------

_SECONDS: weakref.WeakKeyDictionary[Duration, float | None] = weakref.WeakKeyDictionary()


def seconds_of(value: Duration) -> float | None:
    """The length of ``value`` in seconds, or None when it is an unresolved token.

    Asked of node once per ``Duration`` object, then cached.
    """
    try:
        return _SECONDS[value]
    except KeyError:
        pass
    try:
        milliseconds = value.to_milliseconds()
    except RuntimeError:  # a token in another unit than milliseconds cannot be converted
        seconds: float | None = None
    else:
        seconds = None if is_unresolved(milliseconds) else milliseconds / 1000
    _SECONDS[value] = seconds
    return seconds


def duration(seconds: float) -> Duration:
    """``Duration.seconds(seconds)`` (whole seconds) or ``Duration.millis`` (fractions), with its length
    already known to :func:`seconds_of`."""
    made = Duration.seconds(seconds) if float(seconds).is_integer() else Duration.millis(seconds * 1000)
    _SECONDS[made] = float(seconds)
    return made


_UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60))


def format_duration(seconds: float) -> str:
    """A length written one way everywhere: ``725`` is ``'12 minutes 5 seconds'``, ``345600`` ``'4 days'``."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    parts: list[str] = []
    rest = seconds
    for unit, size in _UNITS:
        count = int(rest // size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
            rest -= count * size
    if rest or not parts:
        shown: float = int(rest) if float(rest).is_integer() else round(rest, 3)
        parts.append(f"{shown} second{'' if shown == 1 else 's'}")
    return " ".join(parts)


def describe_duration(value: Duration) -> str:
    """``format_duration`` of ``value``, or CDK's rendering of it when it is an unresolved token."""
    seconds = seconds_of(value)
    return value.to_human_string() if seconds is None else format_duration(seconds)


def retention_of(queue: sqs.IQueue) -> float | None:
    """The retention period in seconds of a queue defined in this app (read from its CfnQueue), SQS's
    4-day default when the template leaves it unset, or None when it is imported or a token."""
    from aws_cdk import aws_sqs as sqs

    cfn = queue.node.default_child if isinstance(queue, Construct) else None
    if not isinstance(cfn, sqs.CfnQueue):
        return None
    seconds = cfn.message_retention_period
    if seconds is None:
        return seconds_of(SQS_DEFAULT_RETENTION_PERIOD)
    return None if is_unresolved(seconds) else float(seconds)


# --- Keys -------------------------------------------------------------------------------------------


def is_aws_managed_key(key: kms.IKey | None, alias: str) -> bool:
    """True when ``key`` is the AWS-managed key named ``alias`` (e.g. ``alias/aws/sqs``), whose key
    policy no one can change, so no service principal can be let in."""
    if key is None:
        return False
    from aws_cdk import aws_kms as kms

    if implements(key, kms.IAlias) and cast("kms.IAlias", key).alias_name == alias:
        return True
    # An imported alias or key ARN keeps the alias as the literal end of its (token-laden) ARN.
    key_arn = key.key_arn
    return isinstance(key_arn, str) and key_arn.endswith(f":{alias}")


def is_aws_managed_sqs_key(key: kms.IKey | None) -> bool:
    """True when ``key`` is the AWS-managed key ``alias/aws/sqs``."""
    return is_aws_managed_key(key, AWS_MANAGED_SQS_KEY_ALIAS)


# --- Kinds of values ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A type an argument must have: what to call it in a message, and how to recognise it."""

    name: str
    accepts: Callable[[object], bool]

    @classmethod
    def of(cls, name: str, *types: type) -> Kind:
        """Instances of ``types`` (``bool`` never counts as a number)."""
        return cls(name, lambda value: isinstance(value, types) and not (isinstance(value, bool) and bool not in types))

    @classmethod
    def interface(cls, name: str, interface: type) -> Kind:
        """jsii objects implementing ``interface``."""
        return cls(name, lambda value: implements(value, interface))


DURATION = Kind.of("a Duration, e.g. Duration.seconds(30)", Duration)
NUMBER = Kind.of("a number", int, float)
BOOLEAN = Kind.of("a bool", bool)
STRING = Kind.of("a str", str)


def _shown(value: object) -> str:
    text = repr(value) if isinstance(value, (str, int, float, bool, dict, list, tuple)) else ""
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type_name(value)} {text}".rstrip()


@dataclass
class Problems:
    """Collects the problems of one call; :meth:`raise_if_any` raises them together."""

    where: str
    items: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.items.append(message)

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigurationError(self.where, self.items)

    # --- Types -----------------------------------------------------------------------------------

    def of_kind(self, argument: str, value: object, kind: Kind) -> bool:
        """True when ``value`` is None or of ``kind``; else adds "argument must be <kind>, got <type>"."""
        if value is None or kind.accepts(value):
            return True
        self.add(f"{argument} must be {kind.name}, got {_shown(value)}")
        return False

    def sequence_of(self, argument: str, value: object, kind: Kind) -> list[Any] | None:
        """``value`` as a list when it is a list or tuple of ``kind``; None (and a problem) otherwise."""
        if value is None:
            return None
        if not isinstance(value, (list, tuple)):
            self.add(f"{argument} must be a list of {_plural(kind.name)}, got {_shown(value)}")
            return None
        wrong = [item for item in value if not kind.accepts(item)]
        if wrong:
            self.add(f"{argument} must be a list of {_plural(kind.name)}, got {_shown(wrong[0])} among them")
            return None
        return list(value)

    def mapping_of_strings(self, argument: str, value: object) -> dict[str, str] | None:
        """``value`` when it is a mapping of str to str; None (and a problem) otherwise."""
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.add(f"{argument} must be a dict of str to str, got {_shown(value)}")
            return None
        wrong = [key for key, item in value.items() if not isinstance(key, str) or not isinstance(item, str)]
        if wrong:
            self.add(f"{argument} must be a dict of str to str, got {wrong[0]!r}: {_shown(value[wrong[0]])}")
            return None
        return dict(value)

    # --- Ranges ----------------------------------------------------------------------------------

    def duration_between(
        self, argument: str, value: object, minimum: float, maximum: float, *, given: bool = True
    ) -> float | None:
        """Seconds of ``value`` when it is a Duration of whole seconds in ``[minimum, maximum]``.

        Returns None for None, tokens and invalid values (each invalid one adds a problem). ``given``
        False marks a library default, which messages call so.
        """
        if value is None or not self.of_kind(argument, value, DURATION):
            return None
        assert isinstance(value, Duration)
        seconds = seconds_of(value)
        if seconds is None:
            return None
        label = argument if given else f"{argument} (default {format_duration(seconds)})"
        if not minimum <= seconds <= maximum:
            self.add(
                f"{label} must be between {format_duration(minimum)} and {format_duration(maximum)}, "
                f"got {format_duration(seconds)}"
            )
            return None
        if not float(seconds).is_integer():
            self.add(f"{label} must be a whole number of seconds, got {format_duration(seconds)}")
            return None
        return seconds

    def int_between(
        self, argument: str, value: object, minimum: int, maximum: int, unit: str = ""
    ) -> int | None:
        """``value`` as an int when it is a whole number in ``[minimum, maximum]``; None for None,
        tokens and invalid values (each invalid one adds a problem)."""
        if value is None or not self.of_kind(argument, value, NUMBER):
            return None
        assert isinstance(value, (int, float))
        if is_unresolved(value):
            return None
        suffix = f" {unit}" if unit else ""
        if not float(value).is_integer():
            self.add(f"{argument} must be a whole number, got {value!r}")
            return None
        if not minimum <= value <= maximum:
            self.add(f"{argument} must be between {minimum:,} and {maximum:,}{suffix}, got {int(value):,}{suffix}")
            return None
        return int(value)

    def string(self, argument: str, value: object) -> str | None:
        """``value`` when it is a literal str; None for None, tokens and non-strings (a problem)."""
        if value is None or not self.of_kind(argument, value, STRING):
            return None
        assert isinstance(value, str)
        return None if is_unresolved(value) else value

    # --- Names -----------------------------------------------------------------------------------

    def queue_name(self, argument: str, name: object, *, fifo: bool) -> str | None:
        """Q8: at most 80 characters (with ``.fifo``), ``[A-Za-z0-9_-]``, ``.fifo`` if and only if FIFO.

        Returns the name when it is a valid literal.
        """
        literal = self.string(argument, name)
        if literal is None:
            return None
        count = len(self.items)
        kind = "a FIFO" if fifo else "a standard"
        if fifo and not literal.endswith(FIFO_SUFFIX):
            self.add(f"{argument} must end with '{FIFO_SUFFIX}' for {kind} queue, got {literal!r}")
        if not fifo and literal.endswith(FIFO_SUFFIX):
            self.add(f"{argument} must not end with '{FIFO_SUFFIX}' for {kind} queue, got {literal!r}")
        stem = literal[: -len(FIFO_SUFFIX)] if literal.endswith(FIFO_SUFFIX) else literal
        if not _QUEUE_NAME_CHARS.fullmatch(stem):
            allowed = "letters, digits, '-' and '_'" + (" (and a final '.fifo')" if fifo else "")
            self.add(f"{argument} may contain only {allowed}, got {literal!r}")
        if len(literal) > QUEUE_NAME_MAX_LENGTH:
            including = f" including '{FIFO_SUFFIX}'" if fifo else ""
            self.add(
                f"{argument} must be at most {QUEUE_NAME_MAX_LENGTH} characters{including}, "
                f"got {len(literal)} characters ({literal!r})"
            )
        return literal if len(self.items) == count else None

    # --- ARNs ------------------------------------------------------------------------------------

    def arn(self, argument: str, value: object, *, shape: ArnShape) -> Arn | None:
        """``value`` split into its fields when it is an ARN of ``shape``; None for None, a whole token
        (e.g. ``Fn::ImportValue``) and invalid values (each adds a problem). Fields that are tokens
        (``${AWS::Partition}``) are not checked."""
        literal = self.string(argument, value)
        if literal is None:
            return None
        parts = literal.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or not _field_is(parts[2], lambda s: s == shape.service):
            self.add(f"{argument} must be {shape.description} ({shape.template}), got {literal!r}")
            return None
        found = Arn(*parts[1:])
        count = len(self.items)
        if not _field_is(found.partition, lambda s: s in ARN_PARTITIONS):
            self.add(f"{argument} has partition {found.partition!r}, expected one of {', '.join(ARN_PARTITIONS)}")
        if not _field_is(found.region, lambda s: bool(_REGION.fullmatch(s))):
            self.add(f"{argument} has region {found.region!r}, expected a region like 'eu-west-1'")
        if not _field_is(found.account, lambda s: bool(_ACCOUNT.fullmatch(s))):
            self.add(f"{argument} has account {found.account!r}, expected a 12-digit account id")
        if shape.resource is not None and not _field_is(found.resource, lambda s: bool(shape.resource.fullmatch(s))):  # type: ignore[union-attr]
            self.add(f"{argument} must be {shape.description} ({shape.template}), got resource {found.resource!r}")
        return found if len(self.items) == count else None

    # --- Dead-letter queues ----------------------------------------------------------------------

    def dead_letter_type(self, argument: str, dead_letter_queue: sqs.IQueue, dlq_fifo: bool, *, fifo: bool) -> None:
        """Q5: a FIFO queue needs a FIFO DLQ and a standard queue a standard one."""
        if dlq_fifo != fifo:
            want = "a FIFO" if fifo else "a standard"
            got = "a FIFO" if dlq_fifo else "a standard"
            self.add(
                f"{argument} must be {want} queue for {want} source queue "
                f"(SQS moves messages only between queues of one type), got {got} queue "
                f"({dead_letter_queue.node.path})"
            )


ARN_PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_ACCOUNT = re.compile(r"\d{12}")


@dataclass(frozen=True)
class Arn:
    """The fields of an ARN; any of them may be a token."""

    partition: str
    service: str
    region: str
    account: str
    resource: str


@dataclass(frozen=True)
class ArnShape:
    """What an ARN argument must be: its service and, optionally, the form of its resource."""

    service: str
    description: str
    template: str
    resource: re.Pattern[str] | None = None


SQS_QUEUE_ARN = ArnShape("sqs", "an SQS queue ARN", "arn:PARTITION:sqs:REGION:ACCOUNT:NAME")
KMS_KEY_ARN = ArnShape(
    "kms", "a KMS key ARN", "arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID", re.compile(r"key/[A-Za-z0-9-]+")
)


def _field_is(value: str, check: Callable[[str], bool]) -> bool:
    return is_unresolved(value) or check(value)


def _plural(name: str) -> str:
    """``'a Duration, e.g. ...'`` -> ``'Durations'`` for list messages; good enough for our kinds."""
    head = name.split(",")[0].split(" (")[0]
    for article in ("a ", "an "):
        if head.startswith(article):
            head = head[len(article) :]
    return head + "s"


def arguments_of(cls: type[_Arguments], values: Mapping[str, object]) -> _Arguments:
    """The arguments dataclass ``cls`` (``QueueOptions``, ``ConsumerArguments``, ...) from a constructor's
    ``locals()``: every field taken from ``values``.

    A field missing from ``values`` is a renamed or removed constructor argument: it raises ``TypeError``
    instead of silently falling back to the field's default (``tests/test_signatures.py`` ties each
    dataclass to its constructors).
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    missing = [name for name in names if name not in values]
    if missing:
        raise TypeError(f"{cls.__name__} fields {missing} are not arguments of the constructor that fills it")
    return cls(**{name: values[name] for name in names})


def check_construct_arguments(kind: str, scope: object, id: object) -> None:
    """``scope`` must be a Construct and ``id`` a non-empty str, checked before ``super().__init__``."""
    problems = Problems(f"{kind}(id={id!r})")
    problems.of_kind("scope", scope, Kind.of("a Construct (a Stack or a construct in one)", Construct))
    if problems.of_kind("id", id, STRING) and not id:
        problems.add("id must be a non-empty str, got ''")
    problems.raise_if_any()


# --- Once per app -------------------------------------------------------------------------------------

_CLAIMS: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], str]] = weakref.WeakKeyDictionary()
_ENVIRONMENTS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def environment_of(scope: IConstruct) -> str:
    """``account/region`` of the stack of ``scope`` (tokens for an environment-agnostic stack), asked of
    node once per stack."""
    from aws_cdk import Stack

    stack = Stack.of(scope)
    known = _ENVIRONMENTS.get(stack)
    if known is None:
        known = _ENVIRONMENTS[stack] = f"{stack.account}/{stack.region}"
    return known


def claim(scope: IConstruct, path: str, what: str, value: str) -> str | None:
    """Record that ``scope`` (at ``path``) uses ``value`` as ``what`` (an alarm name prefix, a queue name)
    in its app.

    Returns the path of the construct that claimed it first, or None when it is free: names that must be
    unique in an account and region are refused at synth rather than at deploy.
    """
    claimed = _CLAIMS.setdefault(scope.node.root, {})
    first = claimed.setdefault((what, value), path)
    return None if first == path else first


def acknowledge(scope: IConstruct, acknowledgments: Sequence[tuple[str, str]]) -> None:
    """Acknowledge cdk-nag rules on ``scope`` and every resource under it, each with its reason.

    ``acknowledgments`` is one of the ``*_ACKNOWLEDGMENTS`` tuples of ``_defaults``: ``(rule id, reason)``
    with the id in CDK's ``Pack::Rule`` form, so the acknowledgment is recorded in validation-report.json.
    """
    Validations.of(scope).acknowledge(*(Acknowledgment(id=rule_id, reason=reason) for rule_id, reason in acknowledgments))
