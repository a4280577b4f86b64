"""Searching a snapshot by role, name, text and states, and saying what is there when nothing matches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from cua_mcp.accessibility.elements import comparable
from cua_mcp.accessibility.model import Node
from cua_mcp.accessibility.roles import role_test, state_test, web_role
from cua_mcp.accessibility.text_format import display_name

_EXAMPLES = 5


@dataclass(frozen=True)
class Query:
    """What a model searches for; every filter given must hold. Unknown roles or states raise at once."""

    role: str | None = None
    name: str | None = None
    text: str | None = None
    states: tuple[str, ...] = ()
    name_exact: bool = False

    def test(self) -> Callable[[Node], bool]:
        role = role_test(self.role) if self.role else None
        states = [state_test(s) for s in self.states]
        name = (self.name or "").strip().lower()
        loose = comparable(self.name or "")
        text = (self.text or "").lower()

        def matches(node: Node) -> bool:
            if role is not None and not role(node):
                return False
            if self.name is not None:
                have = display_name(node)
                # Any case; dashes and spaces aside ("2007-365" finds "2007–365"), unless exact.
                if (have.lower() != name) if self.name_exact else (loose not in comparable(have)):
                    return False
            if self.text and text not in (node.text or node.name).lower():
                return False
            return all(test(node) for test in states)

        return matches

    def looks_for_cells(self) -> bool:
        """Whether a table cell could match (only then is a sheet's costly cell read worth it)."""
        if not self.role:
            return True
        probe = Node("", "", "table cell", "", frozenset())
        return role_test(self.role)(probe)

    def wanted(self) -> str:
        """The search in words: "button named '1'"."""
        what = self.role or "element"
        if self.name is not None:
            what += f" named {self.name!r}" if self.name_exact else f" with {self.name!r} in its name"
        if self.text:
            what += f" with text {self.text!r}"
        if self.states:
            what += " that is " + ", ".join(self.states)
        return what


def no_match(query: Query, nodes: list[Node]) -> str:
    """Why nothing matched, and what is there instead: the role's elements, or the roles there are."""
    head = f"no {query.wanted()} in this scope"
    if query.role:
        role = role_test(query.role)
        same = [n for n in nodes if role(n)]
        if same:
            word = web_role(same[0])
            names = [f'"{display_name(n)}"' for n in same if display_name(n)]
            unique = list(dict.fromkeys(names))[:_EXAMPLES]
            examples = f", e.g. {', '.join(unique)}" if unique else ""
            return f"{head}; there are {len(same)} {word}{'' if len(same) == 1 else 's'}{examples}."
    counts = Counter(web_role(n) for n in nodes if n.role not in ("application", "frame", "filler", "panel"))
    common = ", ".join(f"{count} {role}{'' if count == 1 else 's'}" for role, count in counts.most_common(8))
    return f"{head}; there are {common or 'no elements'}." + (
        " Take a snapshot to see them." if common else " The scope may be wrong: try scope='desktop'."
    )
