"""The rest of MCP's server surface, shared by reference_server.py and stdio_server.py behind their --surface flag.

Prompts (greet with a completable style, review, shout), resources (memo://notes, memo://big, blob://pixel,
memo://control, the template greet://{name}), completion, a subscribable counter://ticks with the tool bump, and
the tools that ask the client something: confirm_delete and open_link (elicitation), summarise (sampling) and
list_roots (roots).

Works with SDK 2.x (`MCPServer`) and SDK 1.x (`FastMCP`). In the handshake era a question is a server-to-client
request tied to the tool call (on streamable HTTP it rides the call's SSE stream). On 2026-07-28 (SDK 2.x only)
the SDK has no back channel for such a request, so the tool answers `input_required` with the question, and the
client's retry carries the answer in `inputResponses`. Both eras send the same question, built once as wire JSON.

add_tasks (reference_server.py --tasks, SDK 1.x) adds the tools slow_count and slow_count_required, run as tasks.
"""

import asyncio
import base64
import contextlib

try:  # SDK 2.x
    from mcp.server.mcpserver import Context
    from mcp_types import EmptyResult, InputRequiredResult, SubscribeRequestParams, UnsubscribeRequestParams
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS

    SDK_MAJOR = 2
    ToolText = str | InputRequiredResult  # a text, or the question of a 2026-07-28 round
except ImportError:  # SDK 1.x
    from mcp.server.fastmcp import Context

    SDK_MAJOR = 1
    MODERN_PROTOCOL_VERSIONS = ()
    ToolText = str

import mcp.types as mtypes
from mcp.shared.message import ServerMessageMetadata

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
STYLES = ["formal", "friendly", "pirate"]
NAMES = ["ann", "bea", "bob"]
COUNTER_URI = "counter://ticks"
CONSENT_URL = "https://example.com/consent"
DELETE_SCHEMA = {
    "type": "object",
    "properties": {
        "confirm": {"type": "boolean"},
        "reason": {"type": "string", "maxLength": 40},
        "count": {"type": "integer", "minimum": 1, "maximum": 5},
        "color": {"type": "string", "enum": ["red", "green"]},
    },
    "required": ["confirm"],
}


def add_surface(app, big_resource_bytes=1048576, tick_ms=None):
    """Registers the prompts, resources, completion, subscription and asking tools on `app`. With `tick_ms`, the
    counter also counts by itself every `tick_ms` once a client subscribes (for a watch over stdio, where no
    other client can call bump)."""
    add_prompts(app)
    add_resources(app, big_resource_bytes)
    add_completion(app)
    add_counter(app, tick_ms)
    add_asking_tools(app)


def add_prompts(app):
    @app.prompt()
    def greet(name: str, style: str = "friendly") -> str:
        """A greeting for someone, in a style (completable: formal, friendly, pirate)."""
        return f"Say hello to {name}." if style == "friendly" else f"Say hello to {name}, {style}."

    @app.prompt()
    def review(code: str) -> list:
        """A conversation about code: a user text, an assistant text, an embedded resource."""
        notes = {"uri": "memo://notes", "mimeType": "text/plain", "text": "remember the milk"}
        return [
            {"role": "user", "content": {"type": "text", "text": f"Review this code:\n{code}"}},
            {"role": "assistant", "content": {"type": "text", "text": "Which conventions apply?"}},
            {"role": "user", "content": {"type": "resource", "resource": notes}},
        ]

    @app.prompt()
    def shout() -> str:
        """A message with a terminal escape sequence and a carriage return in it."""
        return "\x1b[31mred\x1b[0m alert\rcovered"


def add_resources(app, big_resource_bytes):
    @app.resource("memo://notes")
    def notes() -> str:
        """The notes."""
        return "remember the milk"

    @app.resource("memo://big", mime_type="text/plain")
    def big_memo() -> str:
        """A large text resource."""
        return "x" * big_resource_bytes

    @app.resource("blob://pixel", mime_type="image/png")
    def pixel() -> bytes:
        """A 1x1 PNG (a blob resource)."""
        return PNG

    @app.resource("memo://control", mime_type="text/plain")
    def control() -> str:
        """A text with an OSC sequence that would set a terminal's title."""
        return "before \x1b]0;pwned\x07 after"

    @app.resource("greet://{name}", name="greeting", mime_type="text/plain")
    def greeting(name: str) -> str:
        """A greeting for a name."""
        return f"Hello, {name}!"


def add_completion(app):
    @app.completion()
    async def complete(ref, argument, context):
        if ref.type == "ref/prompt" and ref.name == "greet" and argument.name == "style":
            pool = STYLES
        elif ref.type == "ref/resource" and ref.uri == "greet://{name}" and argument.name == "name":
            pool = NAMES
        else:
            return None
        return mtypes.Completion(values=[v for v in pool if v.startswith(argument.value)])


def add_counter(app, tick_ms=None):
    ticks = [0]
    subscribers = {}  # handshake era: the sessions that sent resources/subscribe for the counter, by connection
    ticker = []

    async def bump_once(ctx=None):
        ticks[0] += 1
        for key, session in list(subscribers.items()):
            try:
                await session.send_resource_updated(COUNTER_URI)
            except Exception:  # a subscriber whose connection is gone
                subscribers.pop(key, None)
        if SDK_MAJOR == 2:  # 2026-07-28's subscriptions/listen streams
            from mcp.server.subscriptions import ResourceUpdated

            await app._subscriptions.publish(ResourceUpdated(uri=COUNTER_URI))

    async def tick():
        while True:
            await asyncio.sleep(tick_ms / 1000)
            await bump_once()

    def start_ticker():
        if tick_ms and not ticker:
            ticker.append(asyncio.get_running_loop().create_task(tick()))

    if SDK_MAJOR == 2 and tick_ms:  # a subscriptions/listen stream subscribes to the bus
        bus_subscribe = app._subscriptions.subscribe

        def subscribing(listener):
            start_ticker()
            return bus_subscribe(listener)

        app._subscriptions.subscribe = subscribing

    @app.resource(COUNTER_URI, mime_type="text/plain")
    def counter() -> str:
        """The number of bumps so far (subscribable)."""
        return str(ticks[0])

    @app.tool()
    async def bump(ctx: Context) -> str:
        """Add one to counter://ticks and tell its subscribers."""
        await bump_once()
        return str(ticks[0])

    def subscribe(session, uri):
        if uri == COUNTER_URI:
            subscribers[connection_of(session)] = session
            start_ticker()

    def unsubscribe(session, uri):
        if uri == COUNTER_URI:
            subscribers.pop(connection_of(session), None)

    if SDK_MAJOR == 2:

        async def on_subscribe(ctx, params):
            subscribe(ctx.session, str(params.uri))
            return EmptyResult()

        async def on_unsubscribe(ctx, params):
            unsubscribe(ctx.session, str(params.uri))
            return EmptyResult()

        # MCPServer serves neither (only 2026-07-28's subscriptions/listen); registering them declares
        # resources.subscribe in the handshake era.
        app._lowlevel_server.add_request_handler("resources/subscribe", SubscribeRequestParams, on_subscribe)
        app._lowlevel_server.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, on_unsubscribe)
    else:
        lowlevel = app._mcp_server

        @lowlevel.subscribe_resource()
        async def on_subscribe(uri):
            subscribe(lowlevel.request_context.session, str(uri))

        @lowlevel.unsubscribe_resource()
        async def on_unsubscribe(uri):
            unsubscribe(lowlevel.request_context.session, str(uri))

        # SDK 1.x declares resources.subscribe false whatever handlers it has.
        capabilities = lowlevel.get_capabilities

        def with_subscribe(*args, **kwargs):
            declared = capabilities(*args, **kwargs)
            if declared.resources is not None:
                declared.resources.subscribe = True
            return declared

        lowlevel.get_capabilities = with_subscribe


def connection_of(session):
    """What identifies a client connection: SDK 2.x makes a session per request, over one connection."""
    return getattr(session, "_connection", session)


def add_asking_tools(app):
    @app.tool()
    async def confirm_delete(path: str, ctx: Context) -> ToolText:
        """Ask the client (form elicitation) whether to delete the path."""
        question = {
            "method": "elicitation/create",
            "params": {"mode": "form", "message": f"Delete {path}?", "requestedSchema": DELETE_SCHEMA},
        }
        answer = await ask(ctx, "confirm", question, mtypes.ElicitRequest, mtypes.ElicitResult)
        if isinstance(answer, Asked):
            return answer.result
        if answer.action != "accept":
            return "declined" if answer.action == "decline" else "cancelled"
        content = answer.content or {}
        if content.get("confirm") is not True:
            return f"kept {path}"
        return f"deleted {path} (reason: {content.get('reason', 'none')})"

    @app.tool()
    async def open_link(ctx: Context) -> ToolText:
        """Ask the client to open a consent page (URL elicitation); answers the action."""
        params = {"mode": "url", "message": "Open the consent page", "url": CONSENT_URL, "elicitationId": "consent-1"}
        question = {"method": "elicitation/create", "params": params}
        answer = await ask(ctx, "consent", question, mtypes.ElicitRequest, mtypes.ElicitResult)
        return answer.result if isinstance(answer, Asked) else answer.action

    @app.tool()
    async def summarise(text: str, ctx: Context) -> ToolText:
        """Ask the client's model (sampling) to summarise the text."""
        message = {"role": "user", "content": {"type": "text", "text": text}}
        question = {"method": "sampling/createMessage", "params": {"messages": [message], "maxTokens": 50}}
        answer = await ask(ctx, "summary", question, mtypes.CreateMessageRequest, mtypes.CreateMessageResult)
        if isinstance(answer, Asked):
            return answer.result
        content = answer.content[0] if isinstance(answer.content, list) else answer.content
        said = getattr(content, "text", f"({content.type})")
        return f"summary: {said}" + (f" (model: {answer.model})" if answer.model else "")

    @app.tool()
    async def list_roots(ctx: Context) -> ToolText:
        """The client's roots, one URI a line, or "no roots"."""
        question = {"method": "roots/list"}
        answer = await ask(ctx, "roots", question, mtypes.ListRootsRequest, mtypes.ListRootsResult)
        if isinstance(answer, Asked):
            return answer.result
        return "\n".join(str(root.uri) for root in answer.roots) or "no roots"


class Asked:
    """A question put to a 2026-07-28 client: the tool returns `result`, and the retry brings the answer."""

    def __init__(self, result):
        self.result = result


async def ask(ctx, key, question, request_type, answer_type):
    """The client's answer to `question` (wire JSON), or, on 2026-07-28 before the client answered, Asked."""
    request = request_type.model_validate(question)
    if SDK_MAJOR == 2 and ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        answer = (ctx.input_responses or {}).get(key)
        if answer is None:
            return Asked(InputRequiredResult(input_requests={key: request}, request_state=f"asked:{key}"))
        # The SDK parses each response as whichever answer type fits it first: read it as the one asked for.
        return answer_type.model_validate(answer.model_dump(by_alias=True, exclude_none=True))
    if SDK_MAJOR == 1:
        request = mtypes.ServerRequest(request)
    # Tied to the tool call, so on streamable HTTP it rides the call's own SSE stream.
    related = ServerMessageMetadata(related_request_id=ctx.request_context.request_id)
    return await ctx.session.send_request(request, answer_type, metadata=related)


TASK_SUPPORT = {"slow_count": "optional", "slow_count_required": "required"}


def add_tasks(app):
    """SDK 1.x only: 2025-11-25's tasks (the SDK's experimental support; SDK 2.x has the types but no server side).

    slow_count(n) counts to n, one step every 100 ms, and runs as a task when the call asks for one (its
    execution.taskSupport is optional); slow_count_required is the same but must run as a task. Every other tool
    forbids tasks. As a task, each step sets the task's statusMessage (`i/n`, seen by tasks/get; not sent as
    notifications/tasks/status: the session that asked may be gone); as a plain call, each step is a progress notification.

    The SDK scopes a task to the session that created it: another session (a later mcpconn invocation) is told
    "Task not found", unless the server is stateless (--stateless), where task ids carry no session and any
    session holding the id may use it.
    """
    import warnings

    lowlevel = app._mcp_server
    with warnings.catch_warnings():  # the experimental tasks API is deprecated in favour of the extension
        warnings.simplefilter("ignore", DeprecationWarning)
        experimental = lowlevel.experimental
    support = experimental.enable_tasks()

    @contextlib.asynccontextmanager
    async def in_server_task_group():
        # The SDK runs a task in a task group of the session that started it, kept in one field shared by all
        # sessions: in stateless mode every request is a session, and the first to end leaves the others none
        # ("TaskSupport not running"). Here tasks run in the HTTP session manager's group, which lasts as long as
        # the server.
        support._task_group = app.session_manager._task_group
        yield

    support.run = in_server_task_group

    async def count(n, step):
        for i in range(1, n + 1):
            await asyncio.sleep(0.1)
            await step(i, n)
        return f"counted to {n}"

    @app.tool()
    async def slow_count(n: int, ctx: Context) -> str:
        """Count to n, one step every 100 ms, reporting progress; runs as a task when asked."""
        return await count(n, lambda i, total: ctx.report_progress(i, total))

    @app.tool()
    async def slow_count_required(n: int, ctx: Context) -> str:
        """slow_count that must run as a task (execution.taskSupport required)."""
        return await count(n, lambda i, total: ctx.report_progress(i, total))

    list_tools = lowlevel.request_handlers[mtypes.ListToolsRequest]
    call_tool = lowlevel.request_handlers[mtypes.CallToolRequest]

    async def listing_task_support(request):
        result = await list_tools(request)
        for tool in result.root.tools:
            mode = TASK_SUPPORT.get(tool.name)
            if mode:
                tool.execution = mtypes.ToolExecution(taskSupport=mode)
        return result

    async def calling_as_task(request):
        ctx = lowlevel.request_context
        name = request.params.name
        # Raises -32601 for a task asked of a tool that forbids it, or a required one called without.
        ctx.experimental.validate_task_mode(TASK_SUPPORT.get(name))
        if not ctx.experimental.is_task:
            return await call_tool(request)
        n = int((request.params.arguments or {}).get("n", 0))

        async def work(task):
            # No notifications/tasks/status: the session that would get it may be gone (stateless: at once).
            text = await count(n, lambda i, total: task.update_status(f"{i}/{total}", notify=False))
            return mtypes.CallToolResult(content=[mtypes.TextContent(type="text", text=text)])

        return mtypes.ServerResult(await ctx.experimental.run_task(work))

    lowlevel.request_handlers[mtypes.ListToolsRequest] = listing_task_support
    lowlevel.request_handlers[mtypes.CallToolRequest] = calling_as_task
