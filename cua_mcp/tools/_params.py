"""Parameter types shared by tool modules: bounded, described, and readable by a model."""

from typing import Annotated, Any

from pydantic import Field

from cua_mcp.sandbox.space import AgentSpace

KeyName = Annotated[str, Field(min_length=1, max_length=40, description="A key name such as ctrl, shift, alt, super.")]
Modifiers = Annotated[
    list[KeyName],
    Field(max_length=4, description='Keys held during the action, e.g. ["ctrl"] or ["shift", "alt"].'),
]


def coordinate(axis: str, space: AgentSpace) -> Any:
    """An x or y in the agent space. The bounds are in the schema; `AgentSpace.check` enforces them
    with a message that tells the model where the space ends."""
    limit = space.width if axis == "x" else space.height
    return Annotated[
        int,
        Field(
            description=f"{axis} in the screenshot's coordinate space (0..{limit - 1}).",
            json_schema_extra={"minimum": 0, "maximum": limit - 1},
        ),
    ]
