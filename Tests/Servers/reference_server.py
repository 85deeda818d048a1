"""A reference MCP server for mcpconn's tests, built on the official Python SDK.

Runs with SDK 2.x (`MCPServer`, speaks 2026-07-28 and the handshake era) or SDK 1.x (`FastMCP`, handshake
era only), whichever the interpreter has. Binds 127.0.0.1 on an OS-chosen port and prints `PORT <n>` once
listening; exits on SIGTERM or when stdin reaches EOF (so it never outlives the test process).
"""

import argparse
import asyncio
import base64
import json
import socket

import uvicorn
from lifetime import exit_when_stdin_closes
from surface import add_surface, add_tasks
from tls_options import add_tls_arguments, uvicorn_tls

try:  # SDK 2.x
    from mcp.server.mcpserver import Context, MCPServer as Server
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.server.mcpserver.utilities.types import Audio, Image

    SDK_MAJOR = 2
except ImportError:  # SDK 1.x
    from mcp.server.fastmcp import Context, FastMCP as Server
    from mcp.server.fastmcp.exceptions import ToolError
    from mcp.server.fastmcp.utilities.types import Audio, Image

    SDK_MAJOR = 1

import mcp.types as mtypes

# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
PAGE_SIZE = 50


def mutable_tools(path):
    """The tools of --mutable FILE, read afresh for every listing: a JSON object of name to description (a string),
    or to a whole tool object without its name; absent or unreadable: none. Listed only: a call finds no such tool."""
    if not path:
        return []
    from mcp_types import Tool

    try:
        with open(path) as f:
            spec = json.load(f)
    except (OSError, ValueError):
        return []
    tools = []
    for name, value in spec.items():
        fields = {"description": value} if isinstance(value, str) else dict(value)
        fields.setdefault("inputSchema", {"type": "object", "properties": {}})
        tools.append(Tool.model_validate({"name": name, **fields}))
    return tools


def build(args):
    kwargs = {"log_level": "WARNING"}
    if args.instructions:
        kwargs["instructions"] = args.instructions
    if args.server_version:
        kwargs["version"] = args.server_version
    if SDK_MAJOR == 2:

        class PagedServer(Server):
            # MCPServer answers tools/list in one page; real servers with hundreds of tools page it.
            async def _handle_list_tools(self, ctx, params):
                from mcp_types import ListToolsResult

                tools = await self.list_tools() + mutable_tools(args.mutable)
                start = int(params.cursor) if params is not None and params.cursor else 0
                page = tools[start : start + PAGE_SIZE]
                nxt = str(start + PAGE_SIZE) if start + PAGE_SIZE < len(tools) else None
                return ListToolsResult(tools=page, next_cursor=nxt)

        app = PagedServer(args.name, **{"version": "9.9.9", **kwargs})
    else:
        app = Server(args.name, json_response=args.json_response, stateless_http=args.stateless, **kwargs)

    @app.tool()
    def echo(text: str) -> str:
        """Echo the text back."""
        return text

    @app.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @app.tool()
    def fail(message: str) -> str:
        """Always fail with the given message."""
        raise ToolError(message)

    @app.tool()
    def image() -> Image:
        """Return a tiny PNG image."""
        return Image(data=PNG, format="png")

    @app.tool()
    def audio() -> Audio:
        """Return a short WAV clip."""
        return Audio(data=b"RIFF\x24\x00\x00\x00WAVEfmt ", format="wav")

    @app.tool()
    def resource_link() -> list:
        """Return a link to a resource."""
        return [mtypes.ResourceLink(type="resource_link", uri="file:///tmp/report.txt", name="report")]

    @app.tool()
    def embedded_resource() -> list:
        """Return an embedded text resource."""
        return [
            mtypes.EmbeddedResource(
                type="resource",
                resource=mtypes.TextResourceContents(uri="memo://one", mimeType="text/plain", text="embedded memo"),
            )
        ]

    @app.tool()
    async def notify_then_echo(text: str, ctx: Context) -> str:
        """Send log and progress notifications, then echo the text."""
        await ctx.info("working on it")
        await ctx.report_progress(1, 2)
        return text

    @app.tool()
    async def slow(seconds: float) -> str:
        """Wait, then answer."""
        await asyncio.sleep(seconds)
        return "done"

    @app.tool()
    def big(size: int) -> str:
        """Return a text of `size` bytes."""
        return "x" * size

    if args.input_required:  # SDK 2.x only: the type is 2026-07-28's
        from mcp_types import (
            CreateMessageRequest,
            CreateMessageRequestParams,
            ElicitRequest,
            ElicitRequestFormParams,
            InputRequiredResult,
            ListRootsRequest,
            SamplingMessage,
            TextContent,
        )

        @app.tool()
        def ask(message: str) -> InputRequiredResult:
            """Ask the client for input (2026-07-28's input_required): a confirmation, a sample, its roots."""
            schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
            sample = [SamplingMessage(role="user", content=TextContent(type="text", text="summarise"))]
            return InputRequiredResult(
                input_requests={
                    "confirm": ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=schema)),
                    "model": CreateMessageRequest(params=CreateMessageRequestParams(messages=sample, max_tokens=10)),
                    "where": ListRootsRequest(),
                },
                request_state="round-1",
            )

    if args.recall:
        kept = {"text": ""}

        @app.tool()
        def remember(text: str) -> str:
            """Keep the text (in this process, for any later session)."""
            kept["text"] = text
            return "kept"

        @app.tool()
        def recall() -> str:
            """The text kept last: a value this call was not sent."""
            return kept["text"]

    if args.surface:
        add_surface(app, big_resource_bytes=args.big_resource_bytes, tick_ms=args.tick_ms)
    if args.tasks:
        add_tasks(app)

    for i in range(args.tools):
        name = f"tool_{i:04d}"

        def make(n):
            def extra() -> str:
                return n

            extra.__name__ = n
            extra.__doc__ = f"Extra tool {n}."
            return extra

        app.tool(name=name)(make(name))

    if args.transport == "sse":
        return app.sse_app()
    if SDK_MAJOR == 1:
        return app.streamable_http_app()
    return app.streamable_http_app(json_response=args.json_response, stateless_http=args.stateless)


LOGGED_HEADERS = ["mcp-session-id", "mcp-protocol-version", "mcp-method", "mcp-name", "x-api-key", "authorization"]


def wrap(asgi, args):
    """Adds the test hooks around the SDK's app: an access log, a required header, a redirect of everything."""
    required = []
    for spec in args.require_header or []:
        name, _, value = spec.partition("=")
        required.append((name.strip().lower().encode(), value.encode()))
    log = open(args.access_log, "a", buffering=1) if args.access_log else None

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return await asgi(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if log is not None:
            entry = {"method": scope["method"], "path": scope["path"]}
            for h in LOGGED_HEADERS:
                if h.encode() in headers:
                    entry[h] = headers[h.encode()].decode("latin-1")
            log.write(json.dumps(entry) + "\n")
        if args.redirect_to:
            await send(
                {
                    "type": "http.response.start",
                    "status": 307,
                    "headers": [(b"location", args.redirect_to.encode()), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if any(headers.get(name) != value for name, value in required):
            body = json.dumps({"error": "unauthorized"}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"www-authenticate", b'Bearer realm="mcp"'),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        return await asgi(scope, receive, send)

    return app




def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--transport", choices=["streamable-http", "sse"], default="streamable-http")
    p.add_argument("--json-response", action="store_true")
    p.add_argument("--stateless", action="store_true")
    p.add_argument("--tools", type=int, default=0, help="extra trivial tools, to force tools/list paging")
    p.add_argument("--require-header", action="append", help="NAME=VALUE every request must carry, else 401 (repeatable)")
    p.add_argument("--instructions")
    p.add_argument("--input-required", action="store_true", help="add the tool ask, which answers input_required")
    p.add_argument("--recall", action="store_true", help="add the tools remember and recall (the text kept last)")
    p.add_argument(
        "--surface",
        action="store_true",
        help="add prompts, resources, a template, completion, counter://ticks and the asking tools (surface.py)",
    )
    p.add_argument("--big-resource-bytes", type=int, default=1048576, help="the size of memo://big (with --surface)")
    p.add_argument("--tick-ms", type=int, help="with --surface: counter://ticks counts by itself once subscribed")
    p.add_argument("--tasks", action="store_true", help="SDK 1.x: add slow_count and slow_count_required (tasks)")
    p.add_argument(
        "--mutable",
        metavar="FILE",
        help="SDK 2.x: also list the tools FILE describes, re-read on every tools/list (tools that change on demand)",
    )
    p.add_argument("--name", default="reference")
    p.add_argument("--server-version", help="the version serverInfo gives (SDK 2.x)")
    p.add_argument("--access-log", help="append one JSON line per HTTP request")
    p.add_argument("--no-stdin-watch", action="store_true", help="keep running when stdin closes")
    p.add_argument("--redirect-to", metavar="URL", help="answer every HTTP request 307 with Location: URL")
    add_tls_arguments(p)
    args = p.parse_args()
    if args.mutable and SDK_MAJOR != 2:
        p.error("--mutable needs SDK 2.x")
    tls = uvicorn_tls(args)

    app = wrap(build(args), args)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    # Connections queue in the backlog until uvicorn accepts them: the port line is a safe readiness signal.
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    if not args.no_stdin_watch:
        exit_when_stdin_closes()
    config = uvicorn.Config(app, log_level="warning", lifespan="on", **tls)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
