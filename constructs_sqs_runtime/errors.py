"""The one error the SQS helpers raise when they cannot use a queue (constructs-sqs rule R11).

Every helper (:func:`~constructs_sqs_runtime.send_messages` and ``Producer``, :func:`~constructs_sqs_runtime.consume`
and ``Consumer``, :func:`~constructs_sqs_runtime.redrive`, :func:`~constructs_sqs_runtime.peek_messages`) turns
what botocore raises into a :class:`QueueError` that names the queue, says what went wrong in one of a few
``kind`` values and how to fix it; botocore's exception is its ``__cause__``. ``SendMessagesError`` and
``RedriveError`` are QueueErrors that also carry what was done before, so one ``except QueueError`` catches
every failure of the helpers. Bad arguments stay ``ValueError`` / ``TypeError`` and bad messages
``InvalidMessageError``, raised before any request.

Imports only the standard library; botocore is imported when an error is described.

Example
-------
::

    from constructs_sqs_runtime import QueueError, consume

    try:
        consume(queue_url, handler)
    except QueueError as error:
        print(error.kind, error.queue_url, error.fix)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

__all__ = ["KINDS", "THROTTLE_CODES", "QueueError", "describe", "is_aws_error", "queue_error", "translated"]

KINDS = ("not-found", "credentials", "region", "unreachable", "access-denied", "throttled", "failed")
"""The ``kind`` of a :class:`QueueError`: what went wrong, in words a caller can branch on."""

_NOT_FOUND = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NonExistentQueue", "QueueDeletedRecently"}
_ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "KMS.AccessDeniedException",
    "KmsAccessDenied",
    "UnauthorizedOperation",
    "AWS.SimpleQueueService.UnauthorizedOperation",
}
_CREDENTIALS_REFUSED = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "InvalidSecurity",
    "MissingAuthenticationToken",
}
THROTTLE_CODES = frozenset(
    {
        "AWS.SimpleQueueService.RequestThrottled",
        "RequestThrottled",
        "ThrottlingException",
        "Throttling",
        "KmsThrottled",
        "KMS.ThrottlingException",
        "RequestThrottledException",
        "TooManyRequestsException",
    }
)
"""Every spelling of "throttled" an SQS client can see: the JSON protocol's codes, the query protocol's
(``AWS.SimpleQueueService.RequestThrottled``, which botocore's retry modes do not recognise), and KMS's
throttling of an encrypted queue."""


class QueueError(RuntimeError):
    """A helper could not do its work on a queue.

    Attributes
    ----------
    queue_url:
        The queue the helper was working on.
    kind:
        One of :data:`KINDS`: ``"not-found"`` (no such queue), ``"credentials"`` (none found, or refused),
        ``"region"`` (none set, or not one of SQS's), ``"unreachable"`` (the endpoint cannot be reached),
        ``"access-denied"``, ``"throttled"`` (still throttled after the retries), ``"failed"`` (anything
        else; ``code`` says what).
    code:
        The AWS error code (``AWS.SimpleQueueService.NonExistentQueue``) or botocore's exception name
        (``NoCredentialsError``).
    operation:
        The SQS action that failed (``ReceiveMessage``), or ``""``.
    fix:
        What to do about it, one sentence.
    """

    def __init__(
        self, message: str, *, queue_url: str, kind: str = "failed", code: str = "", operation: str = "", fix: str = ""
    ) -> None:
        super().__init__(message)
        self.queue_url = queue_url
        self.kind = kind
        self.code = code
        self.operation = operation
        self.fix = fix


def describe(error: BaseException, *, queue_url: str, operation: str = "", client: Any = None) -> dict[str, str]:
    """What ``error`` (raised by botocore while working on ``queue_url``) means: ``kind``, ``code``,
    ``what`` (one clause) and ``fix``. ``client`` (the boto3 client) lets it name the endpoint and region."""
    from botocore import exceptions as boto

    code = _code(error)
    endpoint = str(getattr(getattr(client, "meta", None), "endpoint_url", "") or "")
    region = str(getattr(getattr(client, "meta", None), "region_name", "") or "")
    if isinstance(error, (boto.NoCredentialsError, boto.PartialCredentialsError, boto.CredentialRetrievalError)):
        return {
            "kind": "credentials",
            "code": code,
            "what": f"no usable AWS credentials ({error})",
            "fix": "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (for an emulator any keys do), "
            "or pass a client made from a boto3.Session that has them",
        }
    if isinstance(error, boto.ProfileNotFound):
        return {"kind": "credentials", "code": code, "what": str(error), "fix": "check AWS_PROFILE (aws configure list-profiles)"}
    if isinstance(error, boto.NoRegionError):
        return {
            "kind": "region",
            "code": code,
            "what": "no AWS region is set",
            "fix": "set AWS_REGION (or AWS_DEFAULT_REGION), or pass a client made with region_name",
        }
    if isinstance(error, (boto.InvalidRegionError, boto.UnknownEndpointError)):
        return {"kind": "region", "code": code, "what": str(error), "fix": "set AWS_REGION to a region such as eu-west-1"}
    if isinstance(error, (boto.EndpointConnectionError, boto.ConnectTimeoutError, boto.ConnectionClosedError, boto.ReadTimeoutError)):
        where = str(getattr(error, "kwargs", {}).get("endpoint_url") or endpoint or "the endpoint")
        if _unknown_region(region, endpoint):
            return {
                "kind": "region",
                "code": code,
                "what": f"cannot reach {where}: {region!r} is not a region SQS is in",
                "fix": "set AWS_REGION to a region such as eu-west-1 (or the queue's region, which its URL names)",
            }
        answer_lost = isinstance(error, (boto.ConnectionClosedError, boto.ReadTimeoutError))
        return {
            "kind": "unreachable",
            "code": code,
            "what": f"no answer from {where}: the connection was closed or timed out (the request may have arrived)"
            if answer_lost
            else f"cannot reach {where} ({error})",
            "fix": "check the network and the endpoint (AWS_ENDPOINT_URL, or endpoint_url of the client); "
            "for the local emulator, start it first (make deploy-local)",
        }
    if isinstance(error, boto.ClientError):
        codes = {code, str(_details(error).get("QueryErrorCode", ""))}
        text = str(_details(error).get("Message") or "").strip().splitlines()[0][:300] if _details(error).get("Message") else ""
        if codes & _NOT_FOUND:
            url_region = _region_in_url(queue_url)
            mismatch = f"; the client is in {region} but the URL names {url_region}" if url_region and region and url_region != region else ""
            return {
                "kind": "not-found",
                "code": code,
                "what": f"the queue does not exist{mismatch}",
                "fix": "check the queue URL (account, name, the .fifo suffix) and the region, or create the queue "
                "(deploy its stack) first",
            }
        if codes & _ACCESS_DENIED:
            return {
                "kind": "access-denied",
                "code": code,
                "what": f"access denied ({text or code})",
                "fix": f"grant the caller sqs:{operation or '<action>'} on the queue (and kms:Decrypt / kms:GenerateDataKey "
                "on its key when it is encrypted with a customer key)",
            }
        if codes & _CREDENTIALS_REFUSED:
            return {
                "kind": "credentials",
                "code": code,
                "what": f"the AWS credentials were refused ({text or code})",
                "fix": "check that the credentials are current and belong to the queue's account (aws sts get-caller-identity)",
            }
        if codes & THROTTLE_CODES:
            return {
                "kind": "throttled",
                "code": code,
                "what": "still throttled after the client's retries",
                "fix": "send or receive less at once (max_workers / concurrency), or retry later; AWS_MAX_ATTEMPTS and "
                "AWS_RETRY_MODE=adaptive give the client more patience",
            }
        return {"kind": "failed", "code": code, "what": f"{code}: {text}" if text else code, "fix": "see the AWS error code"}
    return {"kind": "failed", "code": code, "what": f"{type(error).__name__}: {error}", "fix": "see the cause"}


def queue_error(
    error: BaseException, *, queue_url: str, operation: str = "", client: Any = None, cls: type[QueueError] = QueueError, **extra: Any
) -> QueueError:
    """A :class:`QueueError` (or ``cls``) for ``error``, naming the queue and the fix."""
    facts = describe(error, queue_url=queue_url, operation=operation, client=client)
    action = f"{operation} on " if operation else ""
    message = f"{action}{queue_url} failed: {facts['what']}. Fix: {facts['fix']}"
    return cls(message, queue_url=queue_url, kind=facts["kind"], code=facts["code"], operation=operation, fix=facts["fix"], **extra)


def is_aws_error(error: BaseException) -> bool:
    """True for what botocore raises (``ClientError`` and every ``BotoCoreError``), never for a bug of ours."""
    try:
        from botocore import exceptions as boto
    except ModuleNotFoundError:  # pragma: no cover - no botocore, no botocore error
        return False
    return isinstance(error, (boto.BotoCoreError, boto.ClientError)) and not isinstance(error, boto.ParamValidationError)


@contextmanager
def translated(
    queue_url: str, operation: str = "", client: Any = None, *, cls: type[QueueError] = QueueError, **extra: Any
) -> Iterator[None]:
    """Raise what botocore raises inside the block as a :class:`QueueError` (or ``cls``, given ``extra``);
    let everything else through."""
    try:
        yield
    except QueueError:
        raise
    except Exception as error:
        if not is_aws_error(error):
            raise
        raise queue_error(error, queue_url=queue_url, operation=operation or _operation(error), client=client, cls=cls, **extra) from error


def _details(error: BaseException) -> Mapping[str, Any]:
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        details = response.get("Error")
        if isinstance(details, Mapping):
            return details
    return {}


def _code(error: BaseException) -> str:
    details = _details(error)
    return str(details.get("Code") or details.get("QueryErrorCode") or type(error).__name__)


def _operation(error: BaseException) -> str:
    return str(getattr(error, "operation_name", "") or "")


def _region_in_url(queue_url: str) -> str | None:
    from ._sqs import region_of

    return region_of(queue_url)


def _unknown_region(region: str, endpoint: str) -> bool:
    """True when the client talks to AWS's own endpoint (not an emulator) in a region botocore does not know."""
    if not region or (endpoint and "amazonaws.com" not in endpoint):
        return False
    try:
        import botocore.session

        known = set(botocore.session.get_session().get_available_regions("sqs"))
        for partition in ("aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"):
            known |= set(botocore.session.get_session().get_available_regions("sqs", partition_name=partition))
    except Exception:  # a botocore without the table: say "unreachable", which is true too
        return False
    return bool(known) and region not in known
