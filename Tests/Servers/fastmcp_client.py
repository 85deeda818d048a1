"""FastMCP 4's own client (`fastmcp.Client`) driving `mcpconn serve` over stdio or HTTP, for the serve tests.

    fastmcp_client.py [--mode auto|legacy] [ANSWERS] -- COMMAND ARGS...
    fastmcp_client.py [--mode auto|legacy] [ANSWERS] --url URL   (the bearer token in $SERVE_TOKEN)

`--mode` is FastMCP's own `Client(mode=...)`: `legacy` pins the initialize handshake, `auto` (its default) probes
`server/discover` and speaks 2026-07-28 with a server that answers it. ANSWERS make the client answer what the server
asks, through FastMCP's handlers (each declares its capability): `--elicit JSON` accepts every elicitation with that
content (a URL elicitation: accepted, no content), `--sample TEXT` answers sampling with TEXT, `--root URI`
(repeatable) lists roots. Each question the client answered is printed first as {"asked": METHOD, "message": …}.

Reads a JSON array of steps on stdin: {"call": NAME, "arguments": {...}}, {"prompt": NAME, "arguments": {...}} or
{"read": URI}. Prints one JSON line with the tool, prompt and resource names listed and the protocol version, then
one per step: {"name", "text", "isError"} (a tool's error result is not raised; a prompt's or resource's failure,
or a call the client gave up on, is an error FastMCP raises, printed as the text). The server's environment is
this process's.
"""

import asyncio
import json
import os
import sys

os.environ.setdefault("FASTMCP_LOG_LEVEL", "WARNING")

import mcp_types
from fastmcp import Client
from fastmcp.client.elicitation import ElicitResult
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport


async def main() -> None:
    args = sys.argv[1:]
    split = args.index("--") if "--" in args else len(args)
    options, command = args[:split], args[split + 1 :]
    mode = options[options.index("--mode") + 1] if "--mode" in options else "auto"
    steps = json.loads(sys.stdin.read() or "[]")
    if "--url" in options:
        transport = StreamableHttpTransport(options[options.index("--url") + 1], auth=os.environ["SERVE_TOKEN"])
    else:
        transport = StdioTransport(command[0], command[1:], env=dict(os.environ), keep_alive=False)
    async with Client(transport, mode=mode, **handlers(options)) as client:
        tools = await client.list_tools()
        prompts = await client.list_prompts()
        resources = await client.list_resources()
        print(json.dumps({"tools": [t.name for t in tools], "prompts": [p.name for p in prompts],
                          "resources": [str(r.uri) for r in resources],
                          "protocolVersion": client.protocol_version}), flush=True)
        for step in steps:
            name = step.get("call") or step.get("prompt") or step.get("read")
            try:
                if "prompt" in step:
                    got = await client.get_prompt(step["prompt"], step.get("arguments", {}))
                    text, error = "".join(m.content.text for m in got.messages), False
                elif "read" in step:
                    text, error = "".join(c.text for c in await client.read_resource(step["read"])), False
                else:
                    # A deadline well under the test's: a call left unanswered shows as an error, not a hang.
                    result = await client.call_tool(step["call"], step.get("arguments", {}), timeout=90,
                                                    raise_on_error=False)
                    text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
                    error = bool(result.is_error)
            except Exception as e:  # FastMCP raises the JSON-RPC error, or its own (a timeout, too many rounds)
                text, error = f"{type(e).__name__}: {e}", True
            print(json.dumps({"name": name, "text": text, "isError": error}), flush=True)


def option_values(options, name):
    return [options[i + 1] for i, o in enumerate(options) if o == name and i + 1 < len(options)]


def handlers(options):
    """FastMCP's handlers the options ask for; each prints what it was asked."""
    chosen = {}
    if "--elicit" in options:
        content = json.loads(option_values(options, "--elicit")[0])

        async def elicit(message, response_type, params, context):
            print(json.dumps({"asked": "elicitation/create", "message": message}), flush=True)
            if getattr(params, "mode", "form") == "url":
                return ElicitResult(action="accept")
            return ElicitResult(action="accept", content=content)

        chosen["elicitation_handler"] = elicit
    if "--sample" in options:
        text = option_values(options, "--sample")[0]

        def sample(messages, params, context):
            print(json.dumps({"asked": "sampling/createMessage", "message": None}), flush=True)
            return mcp_types.CreateMessageResult(
                role="assistant", content=mcp_types.TextContent(type="text", text=text), model="fastmcp-client")

        chosen["sampling_handler"] = sample
    roots = option_values(options, "--root")
    if roots:
        def list_roots(context):
            print(json.dumps({"asked": "roots/list", "message": None}), flush=True)
            return roots

        chosen["roots"] = list_roots
    return chosen


asyncio.run(main())
