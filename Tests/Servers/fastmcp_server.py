"""A FastMCP 4 server (PyPI `fastmcp`, on the official SDK 2.x) for mcpconn's client verbs.

Tools: echo, ask_name (a form elicitation with a `name` field: "Hello, NAME", or "declined"/"cancelled"), ask_url
(a URL elicitation: answers the action), summarize (sampling: answers the sampled text), slow_count (progress
1..n and a warning log message); a prompt, greet, and a resource, memo://fastmcp.

FastMCP speaks both eras and picks the one the client asks for; nothing here forces one. mcpconn gets 2026-07-28 over
streamable HTTP (`--transport http`, endpoint /mcp) and stdio, and the handshake era over the legacy HTTP+SSE
transport (`--transport sse`, endpoint /sse), which has no 2026-07-28. FastMCP does not turn `ctx.elicit` into
`input_required` on 2026-07-28: there it raises a ToolError (no back channel), and a tool asks with FastMCP's guard
pattern instead, returning an `InputRequiredResult` and reading the answer from `ctx.input_responses` on the retry.
FastMCP 4 has no `ctx.sample` and no URL mode in `ctx.elicit`: in the handshake era those go through the SDK's
session, as FastMCP's own proxy does. Over HTTP it binds 127.0.0.1 on an OS-chosen port and prints `PORT <n>` once
listening (as reference_server.py), and exits when stdin reaches EOF.
"""

import argparse
import asyncio
import os
import socket
from dataclasses import dataclass

os.environ.setdefault("FASTMCP_LOG_LEVEL", "WARNING")
os.environ.setdefault("FASTMCP_SHOW_SERVER_BANNER", "false")

import mcp_types
import uvicorn
from fastmcp import Context, FastMCP
from fastmcp.server.elicitation import handle_elicit_accept, parse_elicit_response_type
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

CONSENT_URL = "https://example.com/consent"

app = FastMCP("fastmcp-test", version="4.1.6-test")


@dataclass
class Name:
    name: str


NAME_FORM = parse_elicit_response_type(Name)


def modern(ctx: Context) -> bool:
    """Whether this request is of 2026-07-28, where a tool asks by returning input_required."""
    return ctx.request_context.protocol_version in MODERN_PROTOCOL_VERSIONS


def asking(key: str, request) -> mcp_types.InputRequiredResult:
    return mcp_types.InputRequiredResult(input_requests={key: request}, request_state=f"asked:{key}")


def answered(ctx: Context, key: str, answer_type):
    """The client's answer to the question `key` of the round before, read as `answer_type`, or None."""
    answer = (ctx.input_responses or {}).get(key)
    # The SDK parses each response as whichever answer type fits it first: read it as the one asked for.
    return None if answer is None else answer_type.model_validate(answer.model_dump(by_alias=True, exclude_none=True))


@app.tool
def echo(text: str) -> str:
    """Echo the text back."""
    return text


@app.tool
async def ask_name(ctx: Context) -> str | mcp_types.InputRequiredResult:
    """Ask the client's user for a name (form elicitation) and greet them."""
    message = "What is your name?"
    if modern(ctx):
        answer = answered(ctx, "name", mcp_types.ElicitResult)
        if answer is None:
            params = mcp_types.ElicitRequestFormParams(message=message, requested_schema=NAME_FORM.schema)
            return asking("name", mcp_types.ElicitRequest(params=params))
        if answer.action != "accept":
            return "declined" if answer.action == "decline" else "cancelled"
        return f"Hello, {handle_elicit_accept(NAME_FORM, answer.content).data.name}"
    result = await ctx.elicit(message, response_type=Name)
    if result.action != "accept":
        return "declined" if result.action == "decline" else "cancelled"
    return f"Hello, {result.data.name}"


@app.tool
async def ask_url(ctx: Context) -> str | mcp_types.InputRequiredResult:
    """Ask the client's user to open a consent page (URL elicitation); answers the action."""
    message = "Open the consent page"
    if modern(ctx):
        answer = answered(ctx, "consent", mcp_types.ElicitResult)
        if answer is None:
            params = mcp_types.ElicitRequestURLParams(message=message, url=CONSENT_URL, elicitation_id="consent-1")
            return asking("consent", mcp_types.ElicitRequest(params=params))
        return answer.action
    result = await ctx.session.elicit_url(message, CONSENT_URL, "consent-1", related_request_id=ctx.request_id)
    return result.action


@app.tool
async def summarize(text: str, ctx: Context) -> str | mcp_types.InputRequiredResult:
    """Ask the client's model (sampling) to summarize the text; answers the sampled text."""
    messages = [mcp_types.SamplingMessage(role="user", content=mcp_types.TextContent(type="text", text=text))]
    if modern(ctx):
        answer = answered(ctx, "summary", mcp_types.CreateMessageResult)
        if answer is None:
            params = mcp_types.CreateMessageRequestParams(messages=messages, max_tokens=50)
            return asking("summary", mcp_types.CreateMessageRequest(params=params))
    else:
        answer = await ctx.session.create_message(
            messages=messages, max_tokens=50, related_request_id=ctx.request_id
        )
    content = answer.content[0] if isinstance(answer.content, list) else answer.content
    return getattr(content, "text", f"({content.type})")


@app.tool
async def slow_count(n: int, ctx: Context) -> str:
    """Count to n, reporting progress at each step, then log a warning."""
    for i in range(1, n + 1):
        await ctx.report_progress(i, n, f"step {i}")
        await asyncio.sleep(0.01)
    await ctx.warning(f"counted to {n}")
    return f"counted to {n}"


@app.prompt
def greet(name: str) -> str:
    """A greeting for someone."""
    return f"Say hello to {name}."


@app.resource("memo://fastmcp")
def memo() -> str:
    """A memo."""
    return "served by FastMCP"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--transport", choices=["http", "sse", "stdio"], default="http")
    p.add_argument("--port", type=int, default=0, help="HTTP port (0: chosen by the OS); printed as PORT <n>")
    args = p.parse_args()
    if args.transport == "stdio":
        app.run("stdio", show_banner=False)
        return

    from lifetime import exit_when_stdin_closes

    asgi = app.http_app(transport=args.transport)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    # Connections queue in the backlog until uvicorn accepts them: the port line is a safe readiness signal.
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    exit_when_stdin_closes()
    uvicorn.Server(uvicorn.Config(asgi, log_level="warning", lifespan="on")).run(sockets=[sock])


if __name__ == "__main__":
    main()
