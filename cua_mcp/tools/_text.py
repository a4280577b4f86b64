"""A tool result as two readers need it: compact plain text for the model, structured output for programs."""

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel


def reply(result: BaseModel, text: str) -> CallToolResult:
    """`text` is what the model reads (never JSON); `result` is the structured content the outputSchema describes."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=result.model_dump(mode="json")
    )
