"""The official Python SDK client launching a stdio server and calling one tool."""
import asyncio
import sys

from mcp import Client
from mcp.client.stdio import StdioServerParameters


async def main(mode: str, command: str, *args: str) -> None:
    async with Client(StdioServerParameters(command=command, args=list(args)), mode=mode) as client:
        result = await client.call_tool("echo", {"text": "hi"})
        print(result.content[0].text)


asyncio.run(main(sys.argv[1], sys.argv[2], *sys.argv[3:]))
