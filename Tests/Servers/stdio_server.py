"""A reference MCP server over stdio for mcpconn's tests, built on the official Python SDK.

Runs with SDK 2.x (`MCPServer`: speaks 2026-07-28, so a tools/call carrying the `_meta` envelope needs no
handshake, and answers `server/discover`) or SDK 1.x (`FastMCP`: `initialize` first), whichever the interpreter
has. Tools: echo, add, env_var (a variable of its environment, or "unset"), for the environment rules, argv, and
notify_then_echo (a log message and a progress notification before its answer); a prompt, greet, and a
resource, memo://notes, for `serve`'s routing (with --memo-template, the template memo://{name} too). With
--surface (and --tick-ms N, the only arguments it reads), surface.py's set instead of that prompt and resource:
greet with a completable style, review, shout, five resources, a template, counter://ticks with bump, and the
tools that ask the client (confirm_delete, open_link, summarise, list_roots).
"""

import os
import sys

try:  # SDK 2.x
    from mcp.server.mcpserver import Context, MCPServer as Server
except ImportError:  # SDK 1.x
    from mcp.server.fastmcp import Context, FastMCP as Server

app = Server("stdio-reference", log_level="WARNING")


@app.tool()
def echo(text: str) -> str:
    """Echo the text back."""
    return text


@app.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@app.tool()
def env_var(name: str) -> str:
    """The value of an environment variable of this server, or "unset"."""
    return os.environ.get(name, "unset")


@app.tool()
def argv() -> str:
    """This server's command-line arguments, space-separated (for the argument rules of import)."""
    return " ".join(sys.argv[1:])


@app.tool()
async def notify_then_echo(text: str, ctx: Context) -> str:
    """Send log and progress notifications, then echo the text."""
    await ctx.info("working on it")
    await ctx.report_progress(1, 2)
    return text


if "--surface" in sys.argv[1:]:
    from surface import add_surface

    tick = sys.argv[sys.argv.index("--tick-ms") + 1] if "--tick-ms" in sys.argv[1:-1] else None
    add_surface(app, tick_ms=int(tick) if tick else None)
else:

    @app.prompt()
    def greet(name: str) -> str:
        """A greeting for someone."""
        return f"Say hello to {name}."

    @app.resource("memo://notes")
    def notes() -> str:
        """The notes."""
        return "remember the milk"

    if "--memo-template" in sys.argv[1:]:

        @app.resource("memo://{name}", name="memo")
        def memo(name: str) -> str:
            """Any memo, by name."""
            return f"memo {name}, from the template"


if __name__ == "__main__":
    app.run("stdio")
