"""OSWorld's accessibility XML, so agents written for OSWorld read our trees unchanged, and its
agents' linearization (the TSV table they feed a model), used to compare sizes.

Schema (OSWorld desktop_env/server): each element is named by its role (spaces -> '-'), carries
`name`, states as `st:NAME="true"`, `cp:screencoord="(x, y)"` and `cp:size="(w, h)"` when visible
and showing, `val:value` for values, and its text as the element body; the root is `desktop-frame`.
Coordinates are screen pixels as in OSWorld, or the agent coordinate space when one is given (so that
the numbers an agent reads are the ones click takes).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from cua_mcp.accessibility.model import Node
from cua_mcp.sandbox.space import AgentSpace

NS = {
    "st": "https://accessibility.ubuntu.example.org/ns/state",
    "attr": "https://accessibility.ubuntu.example.org/ns/attributes",
    "cp": "https://accessibility.ubuntu.example.org/ns/component",
    "doc": "https://accessibility.ubuntu.example.org/ns/document",
    "docattr": "https://accessibility.ubuntu.example.org/ns/document/attributes",
    "txt": "https://accessibility.ubuntu.example.org/ns/text",
    "val": "https://accessibility.ubuntu.example.org/ns/value",
    "act": "https://accessibility.ubuntu.example.org/ns/action",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


def to_element(node: Node, space: AgentSpace | None = None) -> ET.Element:
    attrib = {"name": node.name}
    for state in sorted(node.states):
        attrib[_q("st", state.replace(" ", "_"))] = "true"
    if node.box is not None and "visible" in node.states and "showing" in node.states:
        box = node.box
        if space is not None and box[2] > 0 and box[3] > 0:
            x, y = space.from_screen(box[0], box[1])
            box = (x, y, max(1, round(box[2] * space.scale)), max(1, round(box[3] * space.scale)))
        attrib[_q("cp", "screencoord")] = str(tuple(box[:2]))
        attrib[_q("cp", "size")] = str(tuple(box[2:]))
    if node.value is not None:
        attrib[_q("val", "value")] = str(node.value)
    element = ET.Element((node.role or "unknown").replace(" ", "-"), attrib)
    if node.text:
        element.text = node.text
    element.extend(to_element(child, space) for child in node.children)
    return element


def to_xml(roots: list[Node], space: AgentSpace | None = None) -> str:
    root = ET.Element("desktop-frame")
    root.extend(to_element(r, space) for r in roots)
    return ET.tostring(root, encoding="unicode")


# ----- OSWorld's agents' side: filter and linearize (mm_agents heuristic_retrieve) ----------------

_KEPT_TAGS = {
    "alert", "canvas", "check-box", "combo-box", "entry", "icon", "image", "paragraph", "scroll-bar", "section",
    "slider", "static", "table-cell", "terminal", "text",
}  # fmt: skip
_KEPT_SUFFIXES = (
    "item", "button", "heading", "label", "scrollbar", "searchbox", "textbox", "link", "tabelement", "textfield",
    "textarea", "menu",
)  # fmt: skip


def judge(element: ET.Element) -> bool:
    """OSWorld's rule for which nodes an agent sees."""
    tag = element.tag
    kept = tag.startswith("document") or tag.endswith(_KEPT_SUFFIXES) or tag in _KEPT_TAGS
    st = lambda name: element.get(_q("st", name), "false") == "true"  # noqa: E731
    kept = kept and st("showing") and st("visible")
    kept = kept and (st("enabled") or st("editable") or st("expandable") or st("checkable"))
    kept = kept and (element.get("name", "") != "" or bool(element.text))
    x, y = _pair(element.get(_q("cp", "screencoord"), "(-1, -1)"))
    w, h = _pair(element.get(_q("cp", "size"), "(-1, -1)"))
    return kept and x >= 0 and y >= 0 and w > 0 and h > 0


def _pair(text: str) -> tuple[int, int]:
    a, b = text.strip("()").split(",")
    return int(a), int(b)


def filter_nodes(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter() if judge(e)]


def linearize(xml: str) -> str:
    """OSWorld's table: tag, name, text, class, description, position (top-left x&y), size (w&h)."""
    rows = ["tag\tname\ttext\tclass\tdescription\tposition (top-left x&y)\tsize (w&h)"]
    for e in filter_nodes(ET.fromstring(xml)):
        text = (e.text if '"' not in e.text else '"{}"'.format(e.text.replace('"', '""'))) if e.text else '""'
        rows.append(
            "\t".join(
                [
                    e.tag,
                    e.get("name", ""),
                    text,
                    e.get(_q("attr", "class"), ""),
                    e.get(_q("attr", "description"), ""),
                    e.get(_q("cp", "screencoord"), ""),
                    e.get(_q("cp", "size"), ""),
                ]
            )
        )
    return "\n".join(rows)
