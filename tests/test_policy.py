"""The group policy and the call recorder on their own: no desktop needed."""

from __future__ import annotations

import json

import pytest

from cua_mcp.server.policy import PolicyError, resolve_groups
from cua_mcp.server.recording import CallRecorder
from cua_mcp.tools._registry import DEFAULT_GROUPS


def test_defaults_are_everything_but_shell():
    assert resolve_groups() == DEFAULT_GROUPS
    assert "shell" not in resolve_groups()


def test_allow_adds_on_top_of_the_defaults_and_deny_wins():
    assert resolve_groups(["shell"]) == DEFAULT_GROUPS | {"shell"}
    assert resolve_groups(["shell"], ["shell"]) == DEFAULT_GROUPS
    assert resolve_groups([], ["input,files", "Clipboard"]) == DEFAULT_GROUPS - {"input", "files", "clipboard"}


def test_read_only_keeps_observe_alone():
    assert resolve_groups(["shell", "input"], read_only=True) == {"observe"}
    assert resolve_groups(deny=["observe"], read_only=True) == frozenset()


def test_browser_eval_is_allowed_by_name_only():
    assert "browser_eval" not in resolve_groups()
    assert resolve_groups(["browser_eval"]) == DEFAULT_GROUPS | {"browser_eval"}
    assert "browser_eval" not in resolve_groups(["browser_eval"], read_only=True)


@pytest.mark.parametrize("allow,deny", [(["shel"], []), ([], ["inputs"])])
def test_unknown_groups_are_named(allow, deny):
    with pytest.raises(PolicyError, match="unknown tool group") as error:
        resolve_groups(allow, deny)
    assert "observe, input, windows" in str(error.value) and "browser_eval is allowed by name" in str(error.value)


def test_recorder_ring_is_bounded_and_redacts(tmp_path):
    log = tmp_path / "audit.jsonl"
    recorder = CallRecorder(capacity=3, audit_log=log, redact_text=True)
    for i in range(5):
        recorder.on_call(
            tool="type_text",
            arguments={"text": "secret" * (i + 1), "submit": False, "nested": {"value": "x"}},
            client={"transport": "stdio"},
            started=0.0,
            duration_s=0.001,
            error=None if i % 2 == 0 else "boom",
            result="typed" if i % 2 == 0 else None,
        )
    recorder.close()
    assert [r.seq for r in recorder.recent()] == [3, 4, 5]
    assert [r.seq for r in recorder.recent(after=4)] == [5]
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == 5
    assert "secret" not in log.read_text()
    assert lines[0]["arguments"] == {
        "text": "[redacted: 6 characters]",
        "submit": False,
        "nested": {"value": "[redacted: 1 characters]"},
    }
    assert lines[1]["outcome"] == "error" and lines[1]["error"] == "boom"
    assert lines[0]["result"] == "[redacted: 5 characters]"
    assert lines[1]["result"] is None


def test_long_arguments_are_cut_in_the_record():
    recorder = CallRecorder()
    recorder.on_call(tool="type_text", arguments={"text": "a" * 5000}, client={}, started=0, duration_s=0, error=None)
    (record,) = recorder.recent()
    assert record.arguments["text"].startswith("a" * 2000)
    assert record.arguments["text"].endswith("[3000 more characters]")
