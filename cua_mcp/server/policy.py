"""Which tool groups a server offers (`--allow`, `--deny`, `--read-only`) and which it confirms (`--confirm`).

Tools outside the resulting set are never registered, so a client cannot even see them in
`tools/list`; there is no per-call check to forget.
"""

from __future__ import annotations

from collections.abc import Iterable

from cua_mcp.tools._registry import DEFAULT_GROUPS, GROUPS

READ_ONLY_GROUPS = frozenset({"observe"})


class PolicyError(ValueError):
    """A group name or combination of flags that cannot be honoured."""


def _split(values: Iterable[str]) -> list[str]:
    # Accept both `--allow shell --allow files` and `--allow shell,files`.
    return [name.strip().lower() for value in values for name in value.split(",") if name.strip()]


def _check_known(names: list[str], flag: str) -> None:
    unknown = sorted(set(names) - set(GROUPS))
    if unknown:
        raise PolicyError(f"{flag}: unknown tool group(s) {', '.join(unknown)}; the groups are {', '.join(GROUPS)}")


def resolve_groups(allow: Iterable[str] = (), deny: Iterable[str] = (), read_only: bool = False) -> frozenset[str]:
    """The enabled groups: the defaults (all but shell) plus `allow`, minus `deny`.

    `read_only` keeps `observe` alone, whatever else was allowed: it is the switch a user
    flips to let an agent look but never touch.
    """
    allowed, denied = _split(allow), _split(deny)
    _check_known(allowed, "--allow")
    _check_known(denied, "--deny")
    groups = (DEFAULT_GROUPS | set(allowed)) - set(denied)
    if read_only:
        groups &= READ_ONLY_GROUPS
    return frozenset(groups)


def resolve_confirm(confirm: Iterable[str] = ()) -> frozenset[str]:
    """The groups whose calls the person confirms before they run."""
    names = _split(confirm)
    _check_known(names, "--confirm")
    return frozenset(names)
