"""Every failure of the CLI as one line and an exit status (see :func:`constructs_sqs.cli.main`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EXIT", "CliError", "describe"]

EXIT = {
    "failed": 1,
    "usage": 2,
    "not-found": 3,
    "credentials": 4,
    "access-denied": 5,
    "throttled": 6,
    "unreachable": 7,
    "incomplete": 8,
}
"""Exit statuses. ``incomplete`` (8): a redrive ended with messages it was asked to move still in the DLQ."""

# The kinds of constructs_sqs_runtime.QueueError, as exit statuses.
_KIND_EXIT = {
    "not-found": EXIT["not-found"],
    "credentials": EXIT["credentials"],
    "region": EXIT["credentials"],
    "access-denied": EXIT["access-denied"],
    "throttled": EXIT["throttled"],
    "unreachable": EXIT["unreachable"],
}

_NOT_FOUND = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NonExistentQueue"}
_ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "KMS.AccessDeniedException", "UnauthorizedOperation"}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "AWS.SimpleQueueService.RequestThrottled",
}
_CREDENTIALS = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
}


@dataclass
class CliError(Exception):
    """A failure the CLI reports as ``constructs-sqs: error: <message>`` with exit status ``exit_code``."""

    message: str
    exit_code: int = EXIT["failed"]

    def __str__(self) -> str:
        return self.message


def describe(error: BaseException) -> CliError:
    """The one-line message and exit status of any exception a command can raise."""
    if isinstance(error, CliError):
        return error
    from botocore import exceptions as boto

    from constructs_sqs_runtime import InvalidMessageError, QueueError

    if isinstance(error, QueueError):  # a runtime helper's: it names the queue and the fix
        cause = error.__cause__
        if isinstance(cause, (boto.NoCredentialsError, boto.PartialCredentialsError, boto.NoRegionError, boto.ProfileNotFound)):
            return describe(cause)  # said with the CLI's own options (--profile, --region)
        return CliError(str(error), _KIND_EXIT.get(error.kind, EXIT["failed"]))
    if isinstance(error, InvalidMessageError):
        more = f" (and {len(error.problems) - 1} more)" if len(error.problems) > 1 else ""
        return CliError(f"{error.problems[0][1]}{more}; nothing was sent", EXIT["usage"])
    if isinstance(error, (boto.NoCredentialsError, boto.PartialCredentialsError)):
        return CliError(
            "no AWS credentials found: set AWS_PROFILE or pass --profile (for the local emulator pass "
            "--endpoint-url or set AWS_ENDPOINT_URL, with any keys)",
            EXIT["credentials"],
        )
    if isinstance(error, boto.NoRegionError):
        return CliError("no AWS region: pass --region or set AWS_REGION", EXIT["credentials"])
    if isinstance(error, boto.ProfileNotFound):
        return CliError(f"{error}: check --profile / AWS_PROFILE", EXIT["credentials"])
    if isinstance(error, (boto.EndpointConnectionError, boto.ConnectionClosedError)):
        return CliError(f"cannot reach the endpoint: {error}", EXIT["unreachable"])
    if isinstance(error, boto.ClientError):
        return _client_error(error)
    if isinstance(error, (ValueError, FileNotFoundError)):
        return CliError(str(error), EXIT["usage"])
    return CliError(f"{type(error).__name__}: {error}", EXIT["failed"])


def _client_error(error: BaseException) -> CliError:
    details = getattr(error, "response", {}).get("Error", {})
    codes = {str(details.get("Code", "")), str(details.get("QueryErrorCode", ""))}
    operation = getattr(error, "operation_name", "the request")
    text = str(details.get("Message") or error).strip().splitlines()[0][:300]
    code = str(details.get("Code", ""))
    if codes & _NOT_FOUND:
        return CliError(f"the queue does not exist ({operation}: {code})", EXIT["not-found"])
    if codes & _ACCESS_DENIED:
        return CliError(f"access denied: {operation} was refused ({code}: {text})", EXIT["access-denied"])
    if codes & _THROTTLED:
        return CliError(
            f"throttled: {operation} was still throttled after botocore's retries ({code}); try again later",
            EXIT["throttled"],
        )
    if codes & _CREDENTIALS:
        return CliError(f"the AWS credentials were refused ({code}: {text})", EXIT["credentials"])
    if "does not exist" in text and operation in ("GetTemplate", "ListStackResources", "DescribeStacks"):
        return CliError(f"{text}", EXIT["not-found"])
    return CliError(f"{operation} failed: {code}: {text}", EXIT["failed"])
