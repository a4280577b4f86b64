"""The app catalog: names an agent may launch, mapped to commands (a TOML file in the package,
plus the user's `--apps-config` file whose entries add to or replace the shipped ones)."""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from cua_mcp.errors import InvalidArgumentError, UnknownAppError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_KEYS = {"command", "description", "wm_class", "sandboxed", "env", "wait_seconds", "allow_options", "group"}
# The tool group an app needs: "shell" for apps that run any command given to them (terminals).
APP_GROUPS = ("apps", "shell")
DEFAULT_WAIT_S = 30.0


class CatalogError(ValueError):
    """A catalog file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class AppSpec:
    """One catalog entry."""

    name: str
    command: tuple[str, ...]
    description: str = ""
    wm_class: str | None = None
    sandboxed: bool = True
    env: Mapping[str, str] = field(default_factory=dict)
    wait_seconds: float = DEFAULT_WAIT_S
    allow_options: bool = False
    group: str = "apps"

    def argv(self, args: list[str], placeholders: Mapping[str, str]) -> list[str]:
        """The command line with placeholders filled in, then the caller's arguments verbatim.
        Unless the entry allows options, arguments are operands (files, URLs): an option such as
        chromium's --renderer-cmd-prefix or xterm's -e would run any command, which is the shell's job."""
        if not self.allow_options:
            options = [a for a in args if a.startswith("-")]
            if options:
                raise InvalidArgumentError(
                    f"{self.name} takes files or URLs as args, not options ({', '.join(map(repr, options))}): "
                    "options are set in the app catalog."
                )
        return [_fill(part, placeholders) for part in self.command] + list(args)

    def environment(self, placeholders: Mapping[str, str]) -> dict[str, str]:
        return {key: _fill(value, placeholders) for key, value in self.env.items()}


def _fill(text: str, placeholders: Mapping[str, str]) -> str:
    for key, value in placeholders.items():
        text = text.replace("{" + key + "}", value)
    return text


class AppCatalog:
    """App names to `AppSpec`s, in the order they were declared."""

    def __init__(self, apps: Mapping[str, AppSpec]) -> None:
        self.apps = dict(apps)

    @classmethod
    def load(cls, extra: Path | None = None) -> AppCatalog:
        """The shipped catalog, plus `extra`'s entries (which win by name)."""
        shipped = resources.files("cua_mcp.sandbox").joinpath("apps.toml").read_text("utf-8")
        apps = parse_catalog(shipped, "the shipped apps.toml")
        if extra is not None:
            try:
                text = extra.read_text("utf-8")
            except OSError as exc:
                raise CatalogError(f"cannot read the apps config {extra}: {exc.strerror}") from exc
            apps.update(parse_catalog(text, str(extra)))
        return cls(apps)

    @property
    def names(self) -> list[str]:
        return list(self.apps)

    def get(self, name: str) -> AppSpec:
        spec = self.apps.get(name) or self.apps.get(name.strip().lower())
        if spec is None:
            listing = "; ".join(f"{s.name} ({s.description})" if s.description else s.name for s in self.apps.values())
            raise UnknownAppError(f"no app named {name!r} in the catalog. Choose one of: {listing}.")
        return spec


def parse_catalog(text: str, source: str) -> dict[str, AppSpec]:
    """Parse catalog TOML (`[apps.NAME]` tables); raises `CatalogError` saying what is wrong where."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{source}: not valid TOML: {exc}") from exc
    unknown_top = set(data) - {"apps"}
    if unknown_top:
        raise CatalogError(f"{source}: unknown top-level keys {sorted(unknown_top)}; apps go in [apps.NAME] tables")
    entries = data.get("apps", {})
    if not isinstance(entries, dict):
        raise CatalogError(f"{source}: 'apps' must be a table of [apps.NAME] entries")
    return {name: _parse_entry(name, entry, source) for name, entry in entries.items()}


def _parse_entry(name: str, entry: object, source: str) -> AppSpec:
    where = f"{source}: app {name!r}"
    if not _NAME.fullmatch(name):
        raise CatalogError(f"{where}: names are letters, digits, '.', '_' and '-' (at most 64)")
    if not isinstance(entry, dict):
        raise CatalogError(f"{where}: must be a table")
    unknown = set(entry) - _KEYS
    if unknown:
        raise CatalogError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(_KEYS)}")
    command = entry.get("command")
    if isinstance(command, str):
        command = shlex.split(command)
    if not isinstance(command, list) or not command or not all(isinstance(p, str) and p for p in command):
        raise CatalogError(f"{where}: 'command' must be a non-empty list of strings (or one command string)")
    env = entry.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise CatalogError(f"{where}: 'env' must be a table of string values")
    description, wm_class = entry.get("description", ""), entry.get("wm_class")
    if not isinstance(description, str) or not (wm_class is None or isinstance(wm_class, str)):
        raise CatalogError(f"{where}: 'description' and 'wm_class' must be strings")
    sandboxed = entry.get("sandboxed", True)
    if not isinstance(sandboxed, bool):
        raise CatalogError(f"{where}: 'sandboxed' must be true or false")
    allow_options = entry.get("allow_options", False)
    if not isinstance(allow_options, bool):
        raise CatalogError(f"{where}: 'allow_options' must be true or false")
    group = entry.get("group", "apps")
    if group not in APP_GROUPS:
        raise CatalogError(f"{where}: 'group' must be one of {', '.join(APP_GROUPS)}")
    wait = entry.get("wait_seconds", DEFAULT_WAIT_S)
    if isinstance(wait, bool) or not isinstance(wait, int | float) or not 0 < wait <= 300:
        raise CatalogError(f"{where}: 'wait_seconds' must be a number of seconds in (0, 300]")
    return AppSpec(
        name=name,
        command=tuple(command),
        description=description,
        wm_class=wm_class or None,
        sandboxed=sandboxed,
        env=dict(env),
        wait_seconds=float(wait),
        allow_options=allow_options,
        group=group,
    )
