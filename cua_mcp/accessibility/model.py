"""What a snapshot is made of: accessible nodes with their screen boxes, and notes on what is missing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AppInfo:
    """An application on the accessibility bus."""

    bus: str  # its unique name on the bus, e.g. ":1.7"
    path: str  # its root object
    name: str
    pid: int | None = None
    toolkit: str = ""  # e.g. "GTK 4.8.3"; GTK 4 reports window-relative extents
    answering: bool = True


@dataclass
class Node:
    """One accessible object. `box` is (x, y, width, height) in screen pixels, None when it has none."""

    bus: str
    path: str
    role: str
    name: str
    states: frozenset[str]
    interfaces: frozenset[str] = frozenset()  # short names: Action, Component, Text, EditableText, Value, ...
    description: str = ""
    box: tuple[int, int, int, int] | None = None
    text: str | None = None
    value: float | None = None
    caret: int | None = None  # the caret's character offset in an editable multi-line text
    children: list[Node] = field(default_factory=list)
    # Children the reader deliberately left out (e.g. a sheet's 2^31 cells), for the "left out" line.
    omitted_children: int = 0
    ref: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.bus, self.path

    def walk(self, depth: int = 0) -> Iterator[tuple[Node, int]]:
        """This node and its descendants, depth first, with their depths. A stack, not nested
        generators: each node of a deep tree would otherwise pass through one generator per level."""
        stack = [(self, depth)]
        while stack:
            node, at = stack.pop()
            yield node, at
            stack.extend((child, at + 1) for child in reversed(node.children))


@dataclass
class Snapshot:
    """The trees read for one scope, plus notes (apps that did not answer, limits hit)."""

    roots: list[Node]
    notes: list[str] = field(default_factory=list)
    scope: str = ""
    window: bool = False  # the scope is one window: its app is named in the scope, not as a line

    def nodes(self) -> Iterator[tuple[Node, int]]:
        for root in self.roots:
            yield from root.walk()
