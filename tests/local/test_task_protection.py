"""The local ECS agent task-protection endpoint answers as the agent does, and a task is claimed for a stop
only while it is unprotected (then its protection is refused)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from constructs_sqs.local.task_protection import TaskProtectionEndpoint


class Clock:
    def __init__(self, now=1_700_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def endpoint(clock):
    served = TaskProtectionEndpoint(clock=clock)
    yield served
    served.close()


def call(uri, body=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(f"{uri}/task-protection/v1/state", data=data, method="GET" if body is None else "PUT")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_protection_is_set_read_and_released_over_http(endpoint):
    task_id, uri = endpoint.register("arn:aws:ecs:us-east-1:123456789012:task/c/abc")
    assert uri == f"{endpoint.base_url}/api/{task_id}"
    assert call(uri) == (200, {"protection": {"ProtectionEnabled": False, "TaskArn": "arn:aws:ecs:us-east-1:123456789012:task/c/abc"}})
    status, body = call(uri, {"ProtectionEnabled": True, "ExpiresInMinutes": 5})
    assert status == 200
    assert body == {"protection": {"ProtectionEnabled": True, "TaskArn": "arn:aws:ecs:us-east-1:123456789012:task/c/abc",
                                   "ExpirationDate": "2023-11-14T22:18:20.000Z"}}
    assert call(uri)[1]["protection"]["ProtectionEnabled"] is True
    assert endpoint.protected(task_id)
    assert call(uri, {"ProtectionEnabled": False})[1]["protection"] == {"ProtectionEnabled": False, "TaskArn": "arn:aws:ecs:us-east-1:123456789012:task/c/abc"}
    assert not endpoint.protected(task_id)


def test_protection_defaults_to_120_minutes_and_lapses(endpoint, clock):
    task_id, uri = endpoint.register("arn:task")
    call(uri, {"ProtectionEnabled": True})
    clock.now += 120 * 60 - 1
    assert endpoint.protected(task_id)
    clock.now += 1
    assert not endpoint.protected(task_id)
    assert call(uri)[1]["protection"]["ProtectionEnabled"] is False


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "does not contain 'ProtectionEnabled' Boolean field"),
        ({}, "does not contain 'ProtectionEnabled' Boolean field"),
        ({"ProtectionEnabled": "true"}, "does not contain 'ProtectionEnabled' Boolean field"),
        ({"ProtectionEnabled": True, "ExpiresInMinutes": 0}, "ExpiresInMinutes must be a whole number from 1 to 2880, got 0"),
        ({"ProtectionEnabled": True, "ExpiresInMinutes": 2881}, "got 2881"),
        ({"ProtectionEnabled": True, "ExpiresInMinutes": 1.5}, "got 1.5"),
    ],
)
def test_bad_requests_get_the_agents_400(endpoint, body, message):
    task_id, uri = endpoint.register("arn:task")
    status, answer = call(uri, body)
    assert status == 400
    assert answer["error"]["Code"] == "InvalidParameterException"
    assert message in answer["error"]["Message"]
    assert not endpoint.protected(task_id)


def test_unknown_tasks_and_paths_are_not_found(endpoint):
    assert call(f"{endpoint.base_url}/api/nobody")[0] == 404
    task_id, _ = endpoint.register("arn:task")
    assert endpoint.handle(f"/api/{task_id}/task-protection/v2/state", None)[0] == 404


def test_a_protected_task_is_not_claimed_for_a_stop(endpoint):
    task_id, uri = endpoint.register("arn:task")
    call(uri, {"ProtectionEnabled": True, "ExpiresInMinutes": 1})
    assert endpoint.claim_for_stop(task_id) is False
    call(uri, {"ProtectionEnabled": False})
    assert endpoint.claim_for_stop(task_id) is True
    assert endpoint.claim_for_stop(task_id) is False, "claimed once"


def test_a_task_being_stopped_is_refused_protection(endpoint):
    task_id, uri = endpoint.register("arn:task")
    assert endpoint.claim_for_stop(task_id)
    status, answer = call(uri, {"ProtectionEnabled": True, "ExpiresInMinutes": 5})
    assert status == 200
    assert answer == {"failure": {"Arn": "arn:task", "Reason": "TASK_NOT_VALID", "Detail": "The task is being stopped by a scale-in"}}
    assert not endpoint.protected(task_id)
    assert call(uri, {"ProtectionEnabled": False})[1]["protection"]["ProtectionEnabled"] is False


def test_lapsed_protection_lets_the_task_be_claimed(endpoint, clock):
    task_id, uri = endpoint.register("arn:task")
    call(uri, {"ProtectionEnabled": True, "ExpiresInMinutes": 1})
    assert not endpoint.claim_for_stop(task_id)
    clock.now += 60
    assert endpoint.claim_for_stop(task_id)
