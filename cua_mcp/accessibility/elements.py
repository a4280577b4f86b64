"""Acting on one accessible object over D-Bus: describe it, run its actions, focus it, set its
text or value, select a child, read its text. Blocking; runs on the accessibility worker thread."""

from __future__ import annotations

from cua_mcp.accessibility._dbus import AtspiBus, Call, CallFailed, prop, set_prop
from cua_mcp.accessibility._vocab import role_name, states_from_bits
from cua_mcp.accessibility.dbus_backend import ACC, COMPONENT, NULL_PATH, TABLE, TEXT, VALUE, _short
from cua_mcp.accessibility.model import Node
from cua_mcp.errors import AccessibilityError, InvalidArgumentError, StaleRefError

ACTION = "org.a11y.atspi.Action"
EDITABLE = "org.a11y.atspi.EditableText"
SELECTION = "org.a11y.atspi.Selection"
_DEFAULT_ACTIONS = ("click", "press", "activate", "toggle", "jump", "open", "select")
_GONE = ("UnknownObject", "ServiceUnknown", "NameHasNoOwner", "UnknownMethod", "NoReply")
_TOGGLES = frozenset({"check box", "toggle button", "radio button", "check menu item", "radio menu item"})


class Elements:
    def __init__(self, bus: AtspiBus, timeout: float) -> None:
        self.bus = bus
        self.timeout = timeout

    def describe(self, ref: str, bus: str, path: str) -> Node:
        """The object's current role, name, states, interfaces and box; StaleRefError if it is gone."""
        role, name, state, ifaces, box = self.bus.call_many(
            [
                Call(bus, path, ACC, "GetRole"),
                prop(bus, path, ACC, "Name"),
                Call(bus, path, ACC, "GetState"),
                Call(bus, path, ACC, "GetInterfaces"),
                Call(bus, path, COMPONENT, "GetExtents", "u", (0,)),
            ],
            self.timeout,
        )
        for result in (role, state, ifaces):
            if isinstance(result, CallFailed):
                if result.timed_out:
                    raise AccessibilityError(
                        f"the app owning {ref} did not answer within {self.timeout:g} s: it may be busy or hung. "
                        "Wait and retry, or act on pixels."
                    )
                raise StaleRefError(ref, result.reason.split(":")[0].rsplit(".", 1)[-1])
        states = states_from_bits(state)
        if "defunct" in states:
            raise StaleRefError(ref, "the object is defunct")
        node = Node(bus, path, role_name(role), name if isinstance(name, str) else "", states, _short(ifaces))
        node.box = tuple(box) if not isinstance(box, CallFailed) else None  # type: ignore[assignment]
        node.ref = ref
        return node

    def cell_at(self, table_ref: str, bus: str, path: str, row: int, column: int) -> tuple[str, str]:
        """The object of a table's cell by row and column (zero-based), through the Table interface."""
        found = self.bus.call_many([Call(bus, path, TABLE, "GetAccessibleAt", "ii", (row, column))], self.timeout)[0]
        if isinstance(found, CallFailed) or tuple(found)[1] == NULL_PATH:
            reason = "it is not a table" if isinstance(found, CallFailed) else "the table has no such cell"
            raise InvalidArgumentError(
                f"{table_ref} has no cell at row {row + 1}, column {column + 1}: {reason}. "
                "Address cells as <table ref>:<column letters><row number>, e.g. e40:C5."
            )
        return tuple(found)  # type: ignore[return-value]

    def actions(self, node: Node) -> list[str]:
        if "Action" not in node.interfaces:
            return []
        result = self.bus.call(Call(node.bus, node.path, ACTION, "GetActions"), self.timeout)
        return [name for name, _desc, _keys in result]

    def do_action(self, node: Node, name: str | None) -> str | None:
        """Run the named action, or the default one; None when the element has no actions."""
        names = self.actions(node)
        if not names:
            if name is None:
                return None
            raise InvalidArgumentError(f"{node.ref} ({node.role}) has no actions: use click with its ref instead.")
        if name is None:
            index = next((names.index(n) for n in _DEFAULT_ACTIONS if n in names), 0)
        else:
            wanted = name.strip().lower().replace("_", " ")
            matches = [i for i, n in enumerate(names) if n.lower().replace("_", " ") == wanted]
            if not matches:
                raise InvalidArgumentError(
                    f"{node.ref} ({node.role}) has no action {name!r}; its actions are: {', '.join(names)}."
                )
            index = matches[0]
        self._call(Call(node.bus, node.path, ACTION, "DoAction", "i", (index,)))
        return names[index]

    def focus(self, node: Node) -> bool:
        if "Component" not in node.interfaces:
            return False
        return bool(self._call(Call(node.bus, node.path, COMPONENT, "GrabFocus")))

    def scroll_into_view(self, node: Node) -> bool:
        if "Component" not in node.interfaces:
            return False
        return bool(self._call(Call(node.bus, node.path, COMPONENT, "ScrollTo", "u", (6,))))  # ANYWHERE

    def read_text(self, node: Node, offset: int, length: int | None) -> tuple[str, int]:
        """(text, total characters); elements without a Text interface give their name."""
        if "Text" not in node.interfaces:
            return node.name[offset : None if length is None else offset + length], len(node.name)
        total = self._call(prop(node.bus, node.path, TEXT, "CharacterCount"))
        end = total if length is None else min(total, offset + length)
        text = self._call(Call(node.bus, node.path, TEXT, "GetText", "ii", (offset, end))) if offset < end else ""
        return text, total

    def insert_text(self, node: Node, text: str, clear: bool) -> bool:
        """Insert at the caret (or replace all) through EditableText; False if the element has none."""
        if "EditableText" not in node.interfaces:
            return False
        self.focus(node)
        if clear:
            return bool(self._call(Call(node.bus, node.path, EDITABLE, "SetTextContents", "s", (text,))))
        caret = self._call(prop(node.bus, node.path, TEXT, "CaretOffset")) if "Text" in node.interfaces else 0
        # The length argument counts bytes of UTF-8, not characters.
        return bool(
            self._call(Call(node.bus, node.path, EDITABLE, "InsertText", "isi", (caret, text, len(text.encode()))))
        )

    def set_value(self, node: Node, value: str) -> str:
        """Set text, a numeric value, a toggle state or a choice; says what it did."""
        if node.role in _TOGGLES:
            want = value.strip().lower() in ("true", "1", "yes", "on", "checked", "selected")
            if ("checked" in node.states or "pressed" in node.states) != want:
                self.do_action(node, None)
            return f"{'checked' if want else 'unchecked'} {node.role}"
        if "EditableText" in node.interfaces:
            self._call(Call(node.bus, node.path, EDITABLE, "SetTextContents", "s", (value,)))
            return f"set the text to {value!r}"
        if "Value" in node.interfaces:
            try:
                number = float(value)
            except ValueError:
                raise InvalidArgumentError(f"{node.ref} ({node.role}) takes a number, not {value!r}.") from None
            self._call(set_prop(node.bus, node.path, VALUE, "CurrentValue", "d", number))
            return f"set the value to {number:g}"
        if "Selection" in node.interfaces:
            return self._select(node, value)
        raise InvalidArgumentError(
            f"{node.ref} ({node.role}) has no text, value, toggle or choice to set: use click or type_text."
        )

    def _select(self, node: Node, value: str) -> str:
        items = self._children(node)
        if len(items) == 1 and items[0][2] == "menu":  # a GTK combo box keeps its items in a menu
            items = self._children(Node(items[0][0], items[0][1], "menu", "", frozenset()))
        names = [name for _bus, _path, _role, name in items]
        wanted = value.strip().lower()
        index = next((i for i, n in enumerate(names) if n.strip().lower() == wanted), None)
        if index is None:
            index = next((i for i, n in enumerate(names) if wanted in n.lower()), None)
        if index is None:
            raise InvalidArgumentError(f"{node.ref} has no choice {value!r}; its choices are: {', '.join(names)}.")
        self._call(Call(node.bus, node.path, SELECTION, "SelectChild", "i", (index,)))
        return f"selected {names[index]!r}"

    def _children(self, node: Node) -> list[tuple[str, str, str, str]]:
        refs = [r for r in self._call(Call(node.bus, node.path, ACC, "GetChildren")) if r[1] != NULL_PATH]
        calls = [c for bus, path in refs for c in (Call(bus, path, ACC, "GetRole"), prop(bus, path, ACC, "Name"))]
        results = self.bus.call_many(calls, self.timeout)
        return [
            (bus, path, role_name(results[2 * i]) if isinstance(results[2 * i], int) else "", results[2 * i + 1] or "")
            for i, (bus, path) in enumerate(refs)
        ]

    def _call(self, call: Call):
        try:
            return self.bus.call(call, self.timeout)
        except CallFailed as exc:
            if exc.timed_out:
                raise AccessibilityError(f"the app did not answer within {self.timeout:g} s: it may be hung.") from exc
            if any(gone in exc.reason for gone in _GONE):
                raise AccessibilityError(f"{call.method} is not supported here ({exc.reason}).") from exc
            raise AccessibilityError(f"{call.method} failed: {exc.reason}") from exc
