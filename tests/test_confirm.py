"""`--confirm GROUP`: a call in GROUP runs only after the person says yes through the client.

The SDK's client answers elicitation with a callback, as a client with a user interface would after
showing the question. A client that cannot ask is refused the call, with a message that says why.
"""

from __future__ import annotations

import subprocess

import mcp.types as types
import pytest

from tests.support.mcp_client import CUA_MCP, attached_server
from tests.support.x11 import pointer_position


class Person:
    """The person behind the client: records each question and answers with `answer`."""

    def __init__(self) -> None:
        self.questions: list[str] = []
        self.answer: types.ElicitResult = types.ElicitResult(action="accept", content={"approve": True})

    async def __call__(self, context, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.questions.append(params.message)
        return self.answer


@pytest.fixture(scope="module")
def person():
    return Person()


@pytest.fixture(scope="module")
def client(session, person):
    with attached_server(session, "--confirm", "input", elicitation_callback=person) as mcp:
        yield mcp


def test_an_approved_call_runs_after_the_question(client, session, person):
    client.call("click", {"x": 100, "y": 120})
    assert person.questions[-1] == 'Allow the agent to run click {"x": 100, "y": 120}?'
    assert pointer_position(session) == (150, 180)  # the agent space is 2/3 of the 1920x1080 screen


@pytest.mark.parametrize(
    "answer",
    [
        types.ElicitResult(action="accept", content={"approve": False}),
        types.ElicitResult(action="decline"),
        types.ElicitResult(action="cancel"),
    ],
    ids=["said-no", "declined", "cancelled"],
)
def test_a_call_the_person_does_not_allow_does_not_run(client, session, person, answer):
    person.answer = answer
    try:
        before = pointer_position(session)
        message = client.error("move_mouse", {"x": 300, "y": 300})
    finally:
        person.answer = types.ElicitResult(action="accept", content={"approve": True})
    assert "the person did not allow move_mouse" in message and "not run" in message, message
    assert pointer_position(session) == before


def test_groups_not_confirmed_are_not_asked_about(client, person):
    asked = len(person.questions)
    client.call("screen_info")
    assert len(person.questions) == asked


def test_a_client_that_cannot_ask_is_refused(session):
    before = pointer_position(session)
    with attached_server(session, "--confirm", "input") as mcp:
        message = mcp.error("move_mouse", {"x": 400, "y": 400})
    assert "needs the person's confirmation" in message and "cannot ask them" in message, message
    assert pointer_position(session) == before


def test_an_unknown_group_is_a_usage_error(session):
    out = subprocess.run([CUA_MCP, "--confirm", "inptu"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--confirm: unknown tool group(s) inptu" in out.stderr, out.stderr
