"""Checking a tool call's arguments strictly, and saying what is wrong in one sentence a model can act on.

The SDK checks arguments leniently (it turns `"5"` and `true` into numbers and drops names it does
not know) and answers in pydantic's words. `ArgumentCheck` refuses unknown names (suggesting the
closest valid one), converts nothing, and words each refusal from the tool's own input schema:
`count=4 is out of range: count takes an integer from 1 to 3.`
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator
from typing import Any

from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, func_metadata
from pydantic import ConfigDict, ValidationError

from cua_mcp.errors import InvalidArgumentError

_SHOWN_CHARS = 40  # of a refused value, in the message


class RawArguments(ArgModelBase):
    """An argument model that accepts anything: it lets a call's arguments through the SDK untouched."""

    model_config = ConfigDict(extra="allow")

    def model_dump_one_level(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ArgumentCheck:
    """The parameters of one tool function, and the strict check of a call's arguments against them."""

    def __init__(self, tool: str, fn: Callable[..., Any], passed_through: frozenset[str]) -> None:
        self.tool = tool
        self._passed_through = passed_through
        self._model = func_metadata(fn, skip_names=list(passed_through)).arg_model
        self._schema = self._model.model_json_schema(by_alias=True)
        self._names = [field.alias or name for name, field in self._model.model_fields.items()]

    def __call__(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments as the function takes them; `InvalidArgumentError` (one sentence) if they do not fit."""
        given = {k: v for k, v in arguments.items() if k not in self._passed_through}
        for name in given:
            if name not in self._names:
                raise InvalidArgumentError(self._unknown(name))
        for name, text in _strings(given):
            if "\0" in text:
                raise InvalidArgumentError(
                    f"{name} contains a NUL character (\\0), which no path, command or text can hold: remove it."
                )
        try:
            # Through JSON, in strict mode: lists are taken for tuples, but nothing is converted.
            checked = self._model.model_validate_json(json.dumps(given), strict=True)
        except ValidationError as exc:
            raise InvalidArgumentError(self._explain(exc.errors()[0], given)) from None
        return {**checked.model_dump_one_level(), **{k: arguments[k] for k in self._passed_through & arguments.keys()}}

    def _unknown(self, name: str) -> str:
        close = difflib.get_close_matches(name, self._names, n=1, cutoff=0.6)
        if close:
            return f"unknown argument {name!r}; did you mean {close[0]!r}?"
        takes = ", ".join(self._names) if self._names else "no arguments"
        return f"unknown argument {name!r}: {self.tool} takes {takes}."

    def _explain(self, error: Any, given: dict[str, Any]) -> str:
        kind = error["type"]
        path, value, schema = self._locate(error["loc"], given)
        allowed = _describe(schema, self._schema)
        shown = _shown(error.get("input", value))
        if kind == "missing":
            return f"{path} is missing: {self.tool} needs {path} ({allowed})."
        if kind in ("literal_error", "enum"):
            return f"{path}={shown} is not {allowed}; use one of those."
        if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "multiple_of"):
            return f"{path}={shown} is out of range: {path} takes {allowed}."
        if kind in ("string_too_short", "string_too_long"):
            size = "short" if kind == "string_too_short" else "long"
            hint = "; send less, or split it over several calls" if size == "long" else ""
            return f"{path} is too {size} ({len(value)} characters): {path} takes {allowed}{hint}."
        if kind in ("too_short", "too_long"):
            return f"{path} has {len(value)} items, but {path} takes {allowed}."
        if kind == "string_pattern_mismatch":
            form = schema.get("description", allowed).rstrip(".")
            return f"{path}={shown} does not have the form {path} takes ({form[:1].lower() + form[1:]})."
        if kind in ("value_error", "assertion_error"):
            return f"{path}: {error['ctx']['error']}".rstrip(".") + "."
        if kind.endswith(("_type", "_parsing")) or kind in ("int_from_float", "model_attributes_type"):
            return f"{path}={shown} is {_kind_of(value)}, but {path} takes {allowed}; {_how_to_send(schema, self._schema)}."
        return f"{path}={shown} is not valid: {path} takes {allowed}."

    def _locate(self, loc: tuple[Any, ...], given: dict[str, Any]) -> tuple[str, Any, dict[str, Any]]:
        """The parameter path as a model writes it (`modifiers[1]`), the value there, and its schema.

        pydantic's location also names union members (`int`, `list[str]`); those are not in the
        value, so they are skipped."""
        name = str(loc[0])
        path, value = name, given.get(name)
        schema = _resolve(self._schema.get("properties", {}).get(name, {}), self._schema)
        for part in loc[1:]:
            if isinstance(part, int) and isinstance(value, list) and part < len(value):
                path, value = f"{path}[{part}]", value[part]
                schema = _item_schema(schema, part, self._schema)
            elif isinstance(value, dict) and part in value:
                path, value = f"{path}.{part}", value[part]
                schema = _resolve(schema.get("properties", {}).get(part, {}), self._schema)
        return path, value, schema


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in the arguments, with where it is."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return {
            **root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {}),
            **{k: v for k, v in schema.items() if k != "$ref"},
        }
    return schema


def _options(schema: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a schema (itself, when it has none)."""
    schema = _resolve(schema, root)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if not alternatives:
        return [schema]
    return [option for alt in alternatives for option in _options(alt, root) if option.get("type") != "null"]


def _item_schema(schema: dict[str, Any], index: int, root: dict[str, Any]) -> dict[str, Any]:
    for option in _options(schema, root):
        if option.get("type") == "array":
            prefix = option.get("prefixItems")
            if prefix and index < len(prefix):
                return _resolve(prefix[index], root)
            return _resolve(option.get("items", {}), root)
    return {}


def _describe(schema: dict[str, Any], root: dict[str, Any]) -> str:
    """What a schema allows, in words: `an integer from 0 to 1279`, `one of 'left', 'right' or 'middle'`."""
    options = _options(schema, root)
    if len(options) > 1:
        if all("const" in o or "enum" in o for o in options):
            return _one_of([v for o in options for v in o.get("enum", [o.get("const")])])
        return " or ".join(dict.fromkeys(_describe(o, root) for o in options))
    schema = options[0] if options else {}
    if "enum" in schema:
        return _one_of(schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type")
    if kind in ("integer", "number"):
        return _number(schema)
    if kind == "string":
        return _string(schema)
    if kind == "boolean":
        return "true or false"
    if kind == "array":
        return _array(schema, root)
    if kind == "object":
        return "an object"
    return schema.get("description", "a value of the documented kind")


def _one_of(values: list[Any]) -> str:
    shown = [repr(v) for v in values]
    return "one of " + (", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0])


def _number(schema: dict[str, Any]) -> str:
    noun = "an integer" if schema.get("type") == "integer" else "a number"
    low, high = schema.get("minimum"), schema.get("maximum")
    above, below = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if low is not None and high is not None:
        return f"{noun} from {low:g} to {high:g}"
    bounds = [
        *([f"at least {low:g}"] if low is not None else []),
        *([f"greater than {above:g}"] if above is not None else []),
        *([f"at most {high:g}"] if high is not None else []),
        *([f"less than {below:g}"] if below is not None else []),
    ]
    return f"{noun} {' and '.join(bounds)}" if bounds else noun


def _string(schema: dict[str, Any]) -> str:
    shortest, longest = schema.get("minLength"), schema.get("maxLength")
    if shortest and longest:
        text = f"a string of {shortest} to {longest} characters"
    elif longest is not None:
        text = f"a string of at most {longest} characters"
    elif shortest:
        text = f"a string of at least {shortest} characters"
    else:
        text = "a string"
    return text


def _array(schema: dict[str, Any], root: dict[str, Any]) -> str:
    prefix = schema.get("prefixItems")
    if prefix:
        kinds = list(dict.fromkeys(_describe(item, root) for item in prefix))
        of = _plural(kinds[0]) if len(kinds) == 1 else "values (" + ", ".join(kinds) + ")"
        return f"a list of {len(prefix)} {of}"
    items = _plural(_describe(schema.get("items", {}), root))
    fewest, most = schema.get("minItems"), schema.get("maxItems")
    if most is not None and fewest == most:
        return f"a list of {most} {items}"
    text = f"a list of {items}"
    if most is not None:
        text += f" ({fewest or 0} to {most} items)"
    elif fewest:
        text += f" (at least {fewest} items)"
    return text


def _plural(description: str) -> str:
    """`an integer from 0 to 9` -> `integers from 0 to 9`; other descriptions are kept, after 'values:'."""
    for article in ("an ", "a "):
        if description.startswith(article):
            noun, _, rest = description.removeprefix(article).partition(" ")
            return f"{noun}s {rest}".rstrip()
    return f"values ({description})"


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


def _how_to_send(schema: dict[str, Any], root: dict[str, Any]) -> str:
    kinds = {option.get("type") for option in _options(schema, root)}
    if kinds & {"integer", "number"}:
        return "send a JSON number, without quotes"
    if "boolean" in kinds:
        return "send true or false, without quotes"
    if "string" in kinds:
        return "send it as a JSON string, in quotes"
    if "array" in kinds:
        return "send a JSON list"
    return "send a value of that kind"


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."
