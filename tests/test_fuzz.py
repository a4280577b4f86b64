"""Every tool, called with arguments generated from its own input schema (valid) and broken on purpose
(invalid), through a real client: no crash, no hang, every error an isError with a message that says
something, and the server still answers afterwards.

The desktop is this module's sandbox and the files a temporary workspace; the shell is off and
`launch` is left out (it would start heavy apps). Schemas are narrowed for speed only where the
range costs time, not coverage: waits of at most a second, short texts, short lists.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from tests.support.mcp_client import attached_server, error_text

EXAMPLES_PER_TOOL = 6  # half valid, half broken
LEFT_OUT = {"launch"}
_SLOW_NUMBERS = {"seconds", "timeout", "settle"}
_CALL_TIMEOUT_S = 120  # far beyond any call's own bound: reaching it is a hang
_OTHER_TYPE_VALUES = {"boolean": True, "string": "5", "number": 3.5, "array": [], "object": {}, "null": None}

figures: Counter = Counter()


@pytest.fixture(scope="module")
def client(session, tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workspace")
    with attached_server(session, "--workspace", str(workspace), "--deny", "shell") as mcp:
        yield mcp


@pytest.fixture(scope="module")
def schemas(client):
    return {tool.name: _quick(tool.input_schema) for tool in client.list_tools() if tool.name not in LEFT_OUT}


def _quick(schema: dict) -> dict:
    """The schema with slow ranges narrowed: waits up to 1 s, strings up to 40 characters, lists up to 4."""
    schema = json.loads(json.dumps(schema))

    def narrow(node, name=""):
        if isinstance(node, dict):
            if name in _SLOW_NUMBERS and node.get("type") in ("integer", "number"):
                node["maximum"] = min(node.get("maximum", 1), 1)
            if node.get("type") == "string" and "enum" not in node and "pattern" not in node:
                node["maxLength"] = min(node.get("maxLength", 40), 40)
            if node.get("type") == "array":
                node["maxItems"] = min(node.get("maxItems", 4), 4)
            for key, value in node.items():
                if key == "properties":
                    for prop, sub in value.items():
                        narrow(sub, prop)
                else:
                    narrow(value, name if key in ("anyOf", "oneOf", "allOf") else "")
        elif isinstance(node, list):
            for item in node:
                narrow(item, name)

    narrow(schema)
    return schema


def _json_types(prop: dict, defs: dict) -> set[str]:
    if "$ref" in prop:
        prop = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
    if "anyOf" in prop:
        return set().union(*(_json_types(option, defs) for option in prop["anyOf"]))
    if "enum" in prop or "const" in prop:
        return {"enum"}
    kind = prop.get("type")
    return {kind, "number"} if kind == "integer" else {kind} if kind else set()


def _broken(valid: dict, schema: dict, rng: random.Random) -> dict:
    """`valid` made invalid one way: an unknown argument, or a value of a type its parameter refuses."""
    properties = schema.get("properties", {})
    if not properties or rng.random() < 0.3:
        return {**valid, "zz_" + rng.choice(["buton", "sumbit", "x2", "ref_"]): rng.choice([1, "a", True])}
    name = rng.choice(sorted(properties))
    allowed = _json_types(properties[name], schema.get("$defs", {}))
    wrong = [value for kind, value in _OTHER_TYPE_VALUES.items() if kind not in allowed]
    if "enum" in allowed:
        wrong = ["no-such-choice", 12345]
    if "integer" in allowed and "number" in allowed and set(allowed) <= {"integer", "number", "null"}:
        wrong.append(0.5)  # a fraction where a whole number is required
    return {**valid, name: rng.choice(wrong)}


def _check(client, tool: str, arguments: dict, must_fail: bool) -> None:
    started = time.monotonic()
    result = client.call_raw(tool, arguments, timeout=_CALL_TIMEOUT_S)  # raises on a hang
    figures["calls"] += 1
    figures["slowest_ms"] = max(figures["slowest_ms"], round((time.monotonic() - started) * 1000))
    if must_fail:
        assert result.is_error, f"{tool}({arguments}) should have been refused: {result.structured_content}"
    if result.is_error:
        figures["errors"] += 1
        text = error_text(result)
        reason = text.split(":", 1)[1].strip() if text.startswith("Error executing tool") else text
        assert len(reason) > 10, f"{tool}({arguments}): error without a message: {text!r}"
        assert "pydantic" not in text and "Traceback" not in text and "unexpectedly" not in text, text


def test_every_tool_survives_valid_and_broken_arguments(client, schemas):
    assert len(schemas) > 20

    @settings(
        max_examples=EXAMPLES_PER_TOOL * len(schemas),
        deadline=None,
        database=None,
        phases=[Phase.generate],  # no shrinking: each example is a real call on a real desktop
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def one_call(data):
        tool = data.draw(st.sampled_from(sorted(schemas)), label="tool")
        schema = schemas[tool]
        valid = data.draw(from_schema(schema), label="valid arguments")
        if data.draw(st.booleans(), label="broken"):
            rng = random.Random(data.draw(st.integers(0, 2**32), label="seed"))
            _check(client, tool, _broken(valid, schema, rng), must_fail=True)
        else:
            _check(client, tool, valid, must_fail=False)

    one_call()
    still = client.call_raw("screen_info", {})
    assert not still.is_error and "1280" in still.content[0].text  # still serving
    print(f"\nfuzz: {dict(figures)} over {len(schemas)} tools")
