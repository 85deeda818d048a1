"""The official Python SDK client calling one tool: the comparison a Python user would make."""
import asyncio
import sys

from mcp import Client


async def main(url: str, mode: str) -> None:
    async with Client(url, mode=mode) as client:
        result = await client.call_tool("echo", {"text": "hi"})
        print(result.content[0].text)


asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "auto"))
