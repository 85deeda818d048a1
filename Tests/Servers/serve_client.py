"""The official Python SDK client (2.x) driving `mcpconn serve` over stdio, for the serve tests.

    serve_client.py [--pause DIR] [--mode auto|legacy] -- COMMAND ARGS...

Reads a JSON array of steps on stdin: {"call": NAME, "arguments": {...}} or {"pause": true}. Prints one JSON
line with the tool names listed, then one per call: {"name", "text", "isError"}. A pause writes DIR/paused and
waits for DIR/go (the test does something to the upstreams meanwhile). The server's environment is this
process's.
"""

import asyncio
import json
import os
import sys
import time

from mcp import Client
from mcp.client.stdio import StdioServerParameters


async def main() -> None:
    args = sys.argv[1:]
    split = args.index("--")
    options, command = args[:split], args[split + 1 :]
    pause_dir = options[options.index("--pause") + 1] if "--pause" in options else None
    mode = options[options.index("--mode") + 1] if "--mode" in options else "auto"
    steps = json.loads(sys.stdin.read() or "[]")
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    async with Client(params, mode=mode) as client:
        tools = await client.list_tools()
        print(json.dumps({"tools": [t.name for t in tools.tools]}), flush=True)
        for step in steps:
            if step.get("pause"):
                open(os.path.join(pause_dir, "paused"), "w").close()
                while not os.path.exists(os.path.join(pause_dir, "go")):
                    time.sleep(0.02)
                continue
            result = await client.call_tool(step["call"], step.get("arguments", {}))
            text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
            print(json.dumps({"name": step["call"], "text": text, "isError": bool(result.is_error)}), flush=True)


asyncio.run(main())
