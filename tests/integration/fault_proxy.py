"""An HTTP proxy between AWS clients and the emulator that adds latency and injects faults.

Real SQS is milliseconds away and fails in ways an emulator on loopback never does. Point a client's
``endpoint_url`` at :attr:`FaultProxy.url` instead of the emulator's and each request may, at the rates
of its :class:`Faults`:

- ``latency``: wait before the request is forwarded (seconds, or a ``(low, high)`` range drawn uniformly);
- ``reset``: the connection is reset before anything is forwarded (the server never sees the request);
- ``drop_response``: the request is forwarded and the server acts on it, then the connection is reset
  instead of answering, so the client cannot know what happened (the fault that makes duplicates);
- ``server_error``: a 500 ``InternalError`` answer without forwarding;
- ``throttle``: a 400 throttling answer without forwarding, spelt as SQS's JSON protocol spells it for
  query-compatible clients (``x-amzn-query-error: AWS.SimpleQueueService.RequestThrottled;Sender``), which
  botocore's standard retry mode does not recognise as throttling;
- ``partial_failure``: a batch request (``SendMessageBatch``, ``DeleteMessageBatch``,
  ``ChangeMessageVisibilityBatch``, JSON protocol, two entries or more) is forwarded without one of its
  entries (drawn at random), and the answer lists that entry in ``Failed`` with ``InternalError``
  (``SenderFault`` false), as SQS answers for an entry it failed; other requests pass untouched. The emulator
  does not check request signatures, so the changed body goes through.

``Faults.actions`` limits the faults (not the latency) to some SQS actions (``SendMessageBatch``...). The
draws come from one seeded ``random.Random``, so a run is repeatable as far as thread scheduling allows.
:attr:`FaultProxy.counts` counts requests per action and each fault per action, so a test can check that
the faults it meant to inject were injected. A proxy in another process answers ``GET /__fault_proxy__/counts``
(the counts as JSON) and ``POST /__fault_proxy__/reset`` (counts to zero) itself.

Used by the integration tests' fault drills and by ``bench/`` for the latency runs; runnable alone::

    python tests/integration/fault_proxy.py --upstream http://localhost:4566 --port 4577 --latency 0.01
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["FAULT_KINDS", "FaultProxy", "Faults"]

FAULT_KINDS = ("reset", "drop_response", "server_error", "throttle", "partial_failure")
"""The injected faults, in the order they are drawn."""

QUERY_THROTTLE_CODE = "AWS.SimpleQueueService.RequestThrottled"
BATCH_ACTIONS = frozenset({"SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"})
CONTROL_PATH = "/__fault_proxy__/"

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "trailer", "upgrade"}


@dataclass(frozen=True)
class Faults:
    """What the proxy does to requests: each rate is the probability (0-1) of that fault per request."""

    reset: float = 0.0
    drop_response: float = 0.0
    server_error: float = 0.0
    throttle: float = 0.0
    partial_failure: float = 0.0
    latency: float | tuple[float, float] = 0.0
    """Seconds added before each request is forwarded (every request, whatever ``actions`` says)."""
    actions: frozenset[str] | None = None
    """The SQS actions (``SendMessageBatch``, ``ReceiveMessage``...) faults apply to; None: every action."""
    throttle_code: str = QUERY_THROTTLE_CODE
    """The query-protocol error code of a throttle (``AWS.SimpleQueueService.RequestThrottled``)."""

    def __post_init__(self) -> None:
        for kind in FAULT_KINDS:
            rate = getattr(self, kind)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{kind} must be a rate between 0 and 1, got {rate!r}")
        if sum(getattr(self, kind) for kind in FAULT_KINDS) > 1.0:
            raise ValueError("the fault rates must add up to at most 1")

    @classmethod
    def only(cls, kind: str, rate: float, **options: Any) -> Faults:
        """One kind of fault at ``rate`` (``Faults.only("drop_response", 0.15)``)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
        return cls(**{kind: rate}, **options)

    def with_actions(self, *actions: str) -> Faults:
        return replace(self, actions=frozenset(actions))


NO_FAULTS = Faults()


@dataclass
class Counts:
    """What went through the proxy, per SQS action (``"?"`` when the request named none)."""

    requests: Counter[str] = field(default_factory=Counter)
    faults: dict[str, Counter[str]] = field(default_factory=lambda: {kind: Counter() for kind in FAULT_KINDS})

    def fault_total(self, kind: str | None = None) -> int:
        kinds = FAULT_KINDS if kind is None else (kind,)
        return sum(sum(self.faults[k].values()) for k in kinds)

    def as_dict(self) -> dict[str, Any]:
        return {"requests": dict(self.requests), "faults": {k: dict(v) for k, v in self.faults.items() if v}}


class FaultProxy:
    """A threaded HTTP/1.1 proxy on ``127.0.0.1`` in front of ``upstream`` (the emulator's URL).

    Parameters
    ----------
    upstream:
        The URL requests are forwarded to, e.g. ``http://localhost:4566``.
    faults:
        What to do to requests; change it at any time with :attr:`faults` (``proxy.faults = NO_FAULTS``).
    seed:
        The seed of the draws.
    port:
        The port to listen on; 0 picks a free one.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, upstream: str, faults: Faults | None = None, *, seed: int = 0, port: int = 0) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, got {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.faults = faults or NO_FAULTS
        self.counts = Counts()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.proxy = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The proxy's endpoint URL (``localhost``, as the CDK CLI and the SDKs want it)."""
        return f"http://localhost:{self.port}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def reset_counts(self) -> None:
        with self._lock:
            self.counts = Counts()

    # What one request gets: the draws and the counting, under one lock.
    def _decide(self, action: str) -> tuple[float, str | None]:
        faults = self.faults
        with self._lock:
            self.counts.requests[action] += 1
            latency = faults.latency
            delay = self._random.uniform(*latency) if isinstance(latency, tuple) else float(latency)
            if faults.actions is not None and action not in faults.actions:
                return delay, None
            draw = self._random.random()
            threshold = 0.0
            for kind in FAULT_KINDS:
                threshold += getattr(faults, kind)
                if draw < threshold:
                    if kind == "partial_failure" and action not in BATCH_ACTIONS:
                        return delay, None
                    self.counts.faults[kind][action] += 1
                    return delay, kind
        return delay, None

    def _pick(self, count: int) -> int:
        with self._lock:
            return self._random.randrange(count)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    proxy: FaultProxy


def _action_of(headers: Any, body: bytes) -> str:
    target = headers.get("X-Amz-Target")
    if target:  # JSON protocol: "AmazonSQS.SendMessageBatch"
        return str(target).rsplit(".", 1)[-1]
    if body and b"Action=" in body:  # query protocol
        values = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if values:
            return values[0]
    return "?"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    _upstream: http.client.HTTPConnection | None = None

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        proxy = self.server.proxy
        if self.path.startswith(CONTROL_PATH):
            self._control(proxy)
            return
        action = _action_of(self.headers, body)
        delay, fault = proxy._decide(action)
        if delay > 0:
            time.sleep(delay)
        if fault == "reset":
            self._reset()
            return
        if fault == "server_error":
            self._answer_error(500, "InternalError", "InternalFailure", "We encountered an internal error.")
            return
        if fault == "throttle":
            self._answer_error(400, proxy.faults.throttle_code, "RequestThrottled", "Rate exceeded")
            return
        failed_entry = None
        if fault == "partial_failure":
            body, failed_entry = self._without_one_entry(body, proxy)
        try:
            status, reason, headers, payload = self._forward(body)
        except (OSError, http.client.HTTPException) as error:
            self._answer_error(502, "BadGateway", "BadGateway", f"upstream: {error}")
            return
        if fault == "drop_response":  # the server has acted; the client never hears of it
            self._reset()
            return
        if failed_entry is not None and status == 200:
            payload = _with_failed_entry(payload, failed_entry)
        self.send_response(status, reason)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        proxy = self.server.proxy
        # Content-Length comes from the body sent (a partial failure sends a shorter one).
        headers = {name: value for name, value in self.headers.items() if name.lower() not in _HOP_BY_HOP | {"content-length"}}
        for attempt in range(2):  # a kept-alive upstream connection may have been closed meanwhile
            if self._upstream is None:
                self._upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=60)
            try:
                self._upstream.request(self.command, self.path, body=body, headers=headers)
                response = self._upstream.getresponse()
                payload = response.read()
                return response.status, response.reason, response.getheaders(), payload
            except (http.client.RemoteDisconnected, http.client.ImproperConnectionState, BrokenPipeError, ConnectionResetError):
                self._upstream.close()
                self._upstream = None
                if attempt:
                    raise
            except BaseException:  # never reuse a connection left half-way through a request
                self._upstream.close()
                self._upstream = None
                raise
        raise AssertionError("unreachable")

    def _without_one_entry(self, body: bytes, proxy: FaultProxy) -> tuple[bytes, str | None]:
        """The request without one of its entries (JSON protocol), and that entry's Id."""
        if not self.headers.get("X-Amz-Target"):
            return body, None
        try:
            request = json.loads(body)
        except ValueError:
            return body, None
        entries = request.get("Entries") or []
        if len(entries) < 2:  # SQS refuses an empty batch: fail only entries of batches of two or more
            return body, None
        dropped = entries.pop(proxy._pick(len(entries)))
        return json.dumps(request).encode(), str(dropped.get("Id"))

    def _control(self, proxy: FaultProxy) -> None:
        command = self.path[len(CONTROL_PATH):].strip("/")
        if command == "reset":
            proxy.reset_counts()
        payload = json.dumps(proxy.counts.as_dict()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _answer_error(self, status: int, query_code: str, json_code: str, message: str) -> None:
        if self.headers.get("X-Amz-Target"):
            payload = json.dumps({"__type": f"com.amazonaws.sqs#{json_code}", "message": message}).encode()
            content_type = "application/x-amz-json-1.0"
        else:
            payload = (
                "<ErrorResponse><Error><Type>Sender</Type>"
                f"<Code>{query_code}</Code><Message>{message}</Message></Error>"
                "<RequestId>fault-proxy</RequestId></ErrorResponse>"
            ).encode()
            content_type = "text/xml"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        kind = "Receiver" if status >= 500 else "Sender"
        self.send_header("x-amzn-query-error", f"{query_code};{kind}")
        self.send_header("x-amzn-RequestId", "fault-proxy")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _reset(self) -> None:
        """Close with a TCP reset (SO_LINGER 0), as a dropped connection looks to the client."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def finish(self) -> None:
        try:
            super().finish()
        except (OSError, ValueError):
            pass
        if self._upstream is not None:
            self._upstream.close()
            self._upstream = None


def _with_failed_entry(payload: bytes, entry_id: str) -> bytes:
    """An answer of a batch action that also lists ``entry_id`` as failed by SQS (not the sender's fault)."""
    try:
        answer = json.loads(payload)
    except ValueError:
        return payload
    answer.setdefault("Failed", []).append(
        {"Id": entry_id, "SenderFault": False, "Code": "InternalError", "Message": "injected by the fault proxy"}
    )
    return json.dumps(answer).encode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Latency and fault proxy in front of an AWS emulator.")
    parser.add_argument("--upstream", required=True, help="the emulator's URL, e.g. http://localhost:4566")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--seed", type=int, default=0)
    for kind in FAULT_KINDS:
        parser.add_argument(f"--{kind.replace('_', '-')}", type=float, default=0.0, help=f"rate of {kind} (0-1)")
    args = parser.parse_args(argv)
    faults = Faults(latency=args.latency, **{kind: getattr(args, kind) for kind in FAULT_KINDS})
    with FaultProxy(args.upstream, faults, seed=args.seed, port=args.port) as proxy:
        print(f"fault proxy {proxy.url} -> {args.upstream}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
