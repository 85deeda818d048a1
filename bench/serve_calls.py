"""200 sequential tool calls over one session from the official Python SDK client, timed per call.

    serve_calls.py N url URL [MODE]     straight to an HTTP server (MODE: auto, the default, or legacy), or
                                        through `mcpconn serve --http` (its token in $SERVE_TOKEN)
    serve_calls.py N stdio CMD ARGS...  through a stdio bridge (mcpconn serve, mcp-proxy)

Prints the median and mean per call in milliseconds, and the calls per second, as JSON.
"""
import asyncio
import json
import os
import statistics
import sys
import time

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client


async def main() -> None:
    n, kind, target = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    server = target[0] if kind == "url" else StdioServerParameters(command=target[0], args=target[1:], env=dict(os.environ))
    mode = target[1] if kind == "url" and len(target) > 1 else "auto"
    if kind == "url" and os.environ.get("SERVE_TOKEN"):
        http = httpx2.AsyncClient(headers={"Authorization": "Bearer " + os.environ["SERVE_TOKEN"]})
        server = streamable_http_client(target[0], http_client=http)
    async with Client(server, mode=mode) as client:
        tools = await client.list_tools()
        name = next(t.name for t in tools.tools if t.name.endswith("echo"))
        await client.call_tool(name, {"text": "warm"})
        times = []
        for i in range(n):
            start = time.perf_counter()
            result = await client.call_tool(name, {"text": f"call {i}"})
            times.append(time.perf_counter() - start)
            assert result.content[0].text == f"call {i}", result
    print(json.dumps({"median_ms": statistics.median(times) * 1000, "mean_ms": statistics.mean(times) * 1000,
                      "per_s": n / sum(times)}))


asyncio.run(main())
