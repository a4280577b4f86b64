"""Connect to cua-mcp with the MCP SDK's client, take a screenshot and type into an app.

    .venv/bin/python examples/screenshot_and_type.py            # starts its own sandbox desktop
    .venv/bin/python examples/screenshot_and_type.py --display :1

Saves the screenshots before and after as before.png and after.jpg.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import shutil
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main(display: str | None) -> None:
    command = shutil.which("cua-mcp") or f"{sys.prefix}/bin/cua-mcp"
    args = ["--display", display] if display else ["--launch", "mousepad"]
    params = StdioServerParameters(command=command, args=args)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.call_tool("wait", {"seconds": 1.5})  # let mousepad open and take the focus

        shot = await session.call_tool("screenshot", {})
        image, caption = shot.content
        print(caption.text)
        with open("before.png", "wb") as out:
            out.write(base64.b64decode(image.data))

        typed = await session.call_tool("type_text", {"text": "Hello from an MCP client: héllo wörld € 日本 🙂"})
        print(typed.structured_content)
        await session.call_tool("press_keys", {"keys": "Return ctrl+Home shift+End"})  # select the first line

        shot = await session.call_tool("screenshot", {"format": "jpeg"})
        with open("after.jpg", "wb") as out:
            out.write(base64.b64decode(shot.content[0].data))
        print("saved before.png and after.jpg")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--display", help="attach to this X display instead of starting a sandbox")
    asyncio.run(main(parser.parse_args().display))
