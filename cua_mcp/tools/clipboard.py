"""The clipboard as text: `clipboard_get`, `clipboard_set`."""

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.tools._registry import ToolRegistrar
from cua_mcp.tools._text import reply

MAX_CLIPBOARD_CHARS = 100_000


class ClipboardText(BaseModel):
    text: str = Field(description="The clipboard's text ('' when empty).")
    empty: bool = Field(description="True when nothing is on the clipboard.")


class ClipboardSet(BaseModel):
    done: str
    length: int = Field(description="Characters now on the clipboard.")


def register(tools: ToolRegistrar, desktop: Desktop) -> None:
    @tools.tool(group="clipboard", title="Read the clipboard", read_only=True, idempotent=True, untrusted_text=True)
    async def clipboard_get() -> Annotated[CallToolResult, ClipboardText]:
        """The text on the clipboard (what ctrl+v would paste), from whichever app copied it. Use after
        ctrl+c in an app to read what was copied."""
        text = await desktop.clipboard_get()
        result = ClipboardText(text=text or "", empty=text is None)
        if text is None:
            return reply(result, "The clipboard is empty.")
        return reply(result, f"The clipboard holds {len(text)} character{'' if len(text) == 1 else 's'}:\n{text}")

    @tools.tool(group="clipboard", title="Set the clipboard", read_only=False, destructive=True, idempotent=True)
    async def clipboard_set(
        text: Annotated[str, Field(max_length=MAX_CLIPBOARD_CHARS, description="The text to put on the clipboard.")],
    ) -> Annotated[CallToolResult, ClipboardSet]:
        """Put text on the clipboard; it stays there (pasteable with ctrl+v in any app) until something else
        is copied. Faster and more exact than type_text for long text: set it, then paste."""
        await desktop.clipboard_set(text)
        done = f"the clipboard holds {len(text)} characters"
        return reply(ClipboardSet(done=done, length=len(text)), f"Done: {done}; paste with ctrl+v.")
