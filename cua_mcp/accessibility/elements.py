"""Acting on one accessible object over D-Bus: describe it, run its actions, focus it, set its
text or value, select a child, read its text. Blocking; runs on the accessibility worker thread."""

from __future__ import annotations

import time

from cua_mcp.accessibility._dbus import AtspiBus, Call, CallFailed, prop, set_prop
from cua_mcp.accessibility._vocab import role_name, states_from_bits
from cua_mcp.accessibility.backend import clean_text
from cua_mcp.accessibility.dbus_backend import ACC, COMPONENT, NULL_PATH, TABLE, TEXT, VALUE, _short
from cua_mcp.accessibility.geometry import root_pane_shift
from cua_mcp.accessibility.model import Node
from cua_mcp.errors import AccessibilityError, InvalidArgumentError, StaleRefError

ACTION = "org.a11y.atspi.Action"
EDITABLE = "org.a11y.atspi.EditableText"
SELECTION = "org.a11y.atspi.Selection"
_DEFAULT_ACTIONS = ("click", "press", "activate", "toggle", "jump", "open", "select")
_GONE = ("UnknownObject", "ServiceUnknown", "NameHasNoOwner", "UnknownMethod", "NoReply")
_MAX_PARENTS = 40  # deeper than any real window's tree
_TOGGLES = frozenset({"check box", "toggle button", "radio button", "check menu item", "radio menu item"})
_NUMERIC = frozenset({"spin button", "slider", "scroll bar", "dial", "progress bar"})
_ON = ("true", "1", "yes", "on", "checked", "selected")
_OFF = ("false", "0", "no", "off", "unchecked", "unselected")
_TEXT_READ = 400  # characters of text read for an element's line; read_text gives all
_READ_BACK_S = 1.0  # how long a toggled element may take to report its new state
_POPUPS = ("menu", "list", "list box")
_NOT_COMPARED = str.maketrans("", "", " -_\u2010\u2011\u2012\u2013\u2014\u2212")


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

    def read_contents(self, node: Node) -> Node:
        """Fill in the node's text (its start) and numeric value, as a snapshot line shows them."""
        calls = []
        if "Text" in node.interfaces:
            calls.append(Call(node.bus, node.path, TEXT, "GetText", "ii", (0, _TEXT_READ)))
        if "Value" in node.interfaces:
            calls.append(prop(node.bus, node.path, VALUE, "CurrentValue"))
        results = self.bus.call_many(calls, self.timeout)
        if "Text" in node.interfaces and isinstance(results[0], str):
            node.text = clean_text(results[0])  # as a snapshot reads it
        if "Value" in node.interfaces and isinstance(results[-1], int | float):
            node.value = float(results[-1])
        if node.role == "combo box" and not (node.text or "").strip():
            node.text = self._current_choice(node)
        return node

    def _current_choice(self, node: Node) -> str | None:
        """A Chromium <select>'s choice: its text is only an embedded-object mark; its popup knows."""
        popup = self._popup_with_choices(node)
        if popup is None:
            return None
        chosen = self.bus.call_many(
            [Call(popup.bus, popup.path, SELECTION, "GetSelectedChild", "i", (0,))], self.timeout
        )
        if isinstance(chosen[0], CallFailed) or tuple(chosen[0])[1] == NULL_PATH:
            return None
        name = self.bus.call_many([prop(*tuple(chosen[0]), ACC, "Name")], self.timeout)[0]
        return name if isinstance(name, str) else None

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

    def root_pane_shift(self, node: Node) -> tuple[int, int] | None:
        """The shift a root pane above `node` needs to lie on its container (see service._fix_window_relative),
        found by walking up the parents; None when there is no root pane or it is where it belongs."""
        bus, path = node.bus, node.path
        for _ in range(_MAX_PARENTS):
            parent, role = self.bus.call_many([prop(bus, path, ACC, "Parent"), Call(bus, path, ACC, "GetRole")],
                                              self.timeout)  # fmt: skip
            if isinstance(parent, CallFailed) or isinstance(role, CallFailed) or tuple(parent)[1] == NULL_PATH:
                return None
            if role_name(role) == "root pane":
                boxes = self.bus.call_many(
                    [Call(b, p, COMPONENT, "GetExtents", "u", (0,)) for b, p in ((bus, path), tuple(parent))],
                    self.timeout,
                )
                if any(isinstance(box, CallFailed) for box in boxes):
                    return None
                pane = Node(bus, path, "root pane", "", frozenset(), box=tuple(boxes[0]))
                return root_pane_shift(pane, Node(*tuple(parent), "", "", frozenset(), box=tuple(boxes[1])))
            bus, path = tuple(parent)
        return None

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
        try:
            self._call(Call(node.bus, node.path, ACTION, "DoAction", "i", (index,)))
        except AccessibilityError:
            # A row that opens a folder, a button that closes its dialog: the object can die while
            # its action runs, which is the action working.
            if self._alive(node):
                raise
        return names[index]

    def _alive(self, node: Node) -> bool:
        try:
            self.describe(node.ref, node.bus, node.path)
        except StaleRefError:
            return False
        return True

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
        """Set text, a numeric value, a toggle state or a choice; says what it did, as read back."""
        if node.role in _TOGGLES:
            return self._toggle(node, value)
        if "Value" in node.interfaces and (node.role in _NUMERIC or "EditableText" not in node.interfaces):
            return self._set_number(node, value)
        if "EditableText" in node.interfaces:
            self._call(Call(node.bus, node.path, EDITABLE, "SetTextContents", "s", (value,)))
            return f"set the text to {value!r}"
        if "Selection" in node.interfaces:
            return self._select(node, value)
        if node.role == "combo box" and (popup := self._popup_with_choices(node)) is not None:
            return self._select(popup, value, node)  # Chromium's <select>: the choice is its popup's
        raise InvalidArgumentError(
            f"{node.ref} ({node.role}) has no text, value, toggle or choice to set: use click or type_text."
        )

    def _toggle(self, node: Node, value: str) -> str:
        word = value.strip().lower()
        if word not in _ON + _OFF:
            raise InvalidArgumentError(f"{node.ref} ({node.role}) takes true or false, not {value!r}.")
        want = word in _ON
        if _is_on(node) != want:
            self.do_action(node, None)
        # The toolkit may apply the toggle a moment later: answer with the state it reports.
        deadline = time.monotonic() + _READ_BACK_S
        now = self.describe(node.ref, node.bus, node.path)
        while _is_on(now) != want and time.monotonic() < deadline:
            time.sleep(0.02)
            now = self.describe(node.ref, node.bus, node.path)
        if _is_on(now) != want:
            raise AccessibilityError(
                f"{node.ref} ({node.role}) stayed {'checked' if _is_on(now) else 'unchecked'}: it may be "
                "disabled or refuse the change; click it instead."
            )
        return f"{'checked' if want else 'unchecked'} {node.ref}"

    def _set_number(self, node: Node, value: str) -> str:
        try:
            number = float(value)
        except ValueError:
            raise InvalidArgumentError(f"{node.ref} ({node.role}) takes a number, not {value!r}.") from None
        low, high = (self._call(prop(node.bus, node.path, VALUE, name)) for name in ("MinimumValue", "MaximumValue"))
        if low < high and not low <= number <= high:
            raise InvalidArgumentError(f"{node.ref} ({node.role}) takes {low:g} to {high:g}, not {number:g}.")
        # Setting CurrentValue moves the widget's own adjustment: the value is committed, not only shown.
        self._call(set_prop(node.bus, node.path, VALUE, "CurrentValue", "d", number))
        now = self._call(prop(node.bus, node.path, VALUE, "CurrentValue"))
        return f"set the value to {now:g}"

    def _select(self, node: Node, value: str, combo: Node | None = None) -> str:
        """Pick the choice named `value` among `node`'s items (or its popup's); `combo` is the element the
        model named when `node` is its popup. Answers once the choice reads as taken."""
        shown = combo or node
        items = self.children(node)
        if len(items) == 1 and items[0].role in _POPUPS:  # GTK keeps a combo box's items in a popup
            items = self.children(items[0])
        names = [item.name for item in items]
        index = best_match(names, value)
        if index is None:
            raise InvalidArgumentError(f"{shown.ref} has no choice {value!r}; its choices are: {', '.join(names)}.")
        choice = items[index]
        if not self._call(Call(node.bus, node.path, SELECTION, "SelectChild", "i", (index,))):
            # Chromium's <select> refuses SelectChild; its option's own action picks it.
            self.do_action(self.describe(choice.ref, choice.bus, choice.path), None)
        deadline = time.monotonic() + _READ_BACK_S
        while not self._chosen(choice, shown, names[index]):
            if time.monotonic() >= deadline:
                raise AccessibilityError(
                    f"{shown.ref} did not take the choice {names[index]!r}: click it to open its list, "
                    "then click the choice."
                )
            time.sleep(0.02)
        return f"selected {names[index]!r}"

    def _chosen(self, choice: Node, shown: Node, name: str) -> bool:
        """Chromium marks the option selected; a GTK combo box takes the choice's name instead."""
        if "selected" in self.describe("", choice.bus, choice.path).states:
            return True
        return comparable(self.describe(shown.ref, shown.bus, shown.path).name) == comparable(name)

    def _popup_with_choices(self, node: Node) -> Node | None:
        """A combo box's one popup child, when it is the popup that holds the choice (Selection)."""
        children = self.children(node)
        if len(children) != 1 or children[0].role not in _POPUPS:
            return None
        popup = self.describe("", children[0].bus, children[0].path)
        return popup if "Selection" in popup.interfaces else None

    def children(self, node: Node) -> list[Node]:
        """The object's children with role and name (also those not showing, as a closed menu's items)."""
        refs = [r for r in self._call(Call(node.bus, node.path, ACC, "GetChildren")) if r[1] != NULL_PATH]
        calls = [c for bus, path in refs for c in (Call(bus, path, ACC, "GetRole"), prop(bus, path, ACC, "Name"))]
        results = self.bus.call_many(calls, self.timeout)
        return [
            Node(
                bus,
                path,
                role_name(results[2 * i]) if isinstance(results[2 * i], int) else "",
                results[2 * i + 1] if isinstance(results[2 * i + 1], str) else "",
                frozenset(),
            )
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


def _is_on(node: Node) -> bool:
    return "checked" in node.states or "pressed" in node.states


def comparable(name: str) -> str:
    """A name as matched: any case; dashes, spaces, mnemonic underscores and trailing dots ignored
    ("Top-Left" = "top left", "Save _As…" = "save as...")."""
    return name.casefold().translate(_NOT_COMPARED).rstrip(".…")


def best_match(names: list[str], wanted: str) -> int | None:
    """The index of the name `wanted` names: equal as compared, else the first that contains it."""
    key = comparable(wanted)
    index = next((i for i, n in enumerate(names) if comparable(n) == key), None)
    if index is None and key:
        index = next((i for i, n in enumerate(names) if key in comparable(n)), None)
    return index
