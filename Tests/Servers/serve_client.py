"""The official Python SDK client (2.x) driving `mcpconn serve` over stdio or HTTP, for the serve tests.

    serve_client.py [--pause DIR] [--mode auto|legacy] [ANSWERS] -- COMMAND ARGS...
    serve_client.py [--pause DIR] [--mode auto|legacy] [ANSWERS] --url URL [--host NAME]   (the bearer token in $SERVE_TOKEN)
    serve_client.py [--pause DIR] [--mode auto|legacy] [ANSWERS] --url URL --oauth    (OAuth: no $SERVE_TOKEN)

ANSWERS make the client answer what the server asks (and declare the capability): `--elicit JSON` accepts every
elicitation with that content (a URL elicitation: accepted, no content), `--sample TEXT` answers sampling with TEXT
(model "serve-client"), `--root URI` (repeatable) lists roots. Each question the client answered is printed first as
{"asked": METHOD, "message": …}.

Reads a JSON array of steps on stdin: {"call": NAME, "arguments": {...}}, {"prompt": NAME, "arguments": {...}},
{"read": URI}, {"subscribe": URI}, {"updated": URI}, {"watchTools": true}, {"toolsChanged": true} or {"pause": true}.
Prints one JSON line with the tool, prompt and resource names listed, then one per step: {"name", "text", "isError"}
(a prompt's or resource's failure is an error the SDK raises; a tool call's JSON-RPC error is printed with "code").
watchTools asks for tools/list_changed (2026-07-28: a subscriptions/listen stream with toolsListChanged, kept open;
the handshake era hears it on the session) and prints {"watchingTools": BOOL honored}; toolsChanged waits (up to
60 s) for one since the watch and lists the tools again: {"toolsChanged": seen, "tools": [names]}. A subscribe watches the resource in the era spoken (the handshake era: resources/subscribe;
2026-07-28: a subscriptions/listen stream kept open to the end) and prints {"subscribed": URI, "honored": [URIs]};
an updated step waits (up to 60 s) for a notifications/resources/updated of the URI since the subscribe and prints
{"updated": URI, "seen": BOOL}. A pause writes DIR/paused and
waits for DIR/go (the test does something to the upstreams meanwhile). The server's environment is this
process's. `--host` sends that Host header (a public name, while the URL names 127.0.0.1: no DNS in the tests);
an https URL's certificate is checked against $SSL_CERT_FILE when set (httpx's own rule). `--oauth` makes the SDK's
OAuthClientProvider do the whole MCP authorization flow: the 401, the resource metadata, registration, the
authorization (its redirect followed here, as a browser would, with no user: the test server approves at once) and
the token, sent on every request; the token's claims are printed first as {"token": claims} (not its signature).
"""

import asyncio
import contextlib
import json
import os
import sys
import time
import warnings

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client


async def main() -> None:
    args = sys.argv[1:]
    split = args.index("--") if "--" in args else len(args)
    options, command = args[:split], args[split + 1 :]
    pause_dir = options[options.index("--pause") + 1] if "--pause" in options else None
    mode = options[options.index("--mode") + 1] if "--mode" in options else "auto"
    steps = json.loads(sys.stdin.read() or "[]")
    callbacks = answering(options)
    updates = Updates()
    callbacks["message_handler"] = updates.handle
    if "--oauth" in options:
        auth = oauth_provider(options[options.index("--url") + 1])
        http = httpx2.AsyncClient(auth=auth, timeout=httpx2.Timeout(30, read=300))
        server = streamable_http_client(options[options.index("--url") + 1], http_client=http)
    elif "--url" in options:
        headers = {"Authorization": "Bearer " + os.environ["SERVE_TOKEN"]}
        if "--host" in options:
            headers["Host"] = options[options.index("--host") + 1]
        http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300))
        server = streamable_http_client(options[options.index("--url") + 1], http_client=http)
    else:
        server = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    async with Client(server, mode=mode, **callbacks) as client, contextlib.AsyncExitStack() as listens:
        if "--oauth" in options:
            print(json.dumps({"token": auth.claims()}), flush=True)
        tools = await client.list_tools()
        prompts = await client.list_prompts()
        resources = await client.list_resources()
        print(json.dumps({"tools": [t.name for t in tools.tools], "prompts": [p.name for p in prompts.prompts],
                          "resources": [str(r.uri) for r in resources.resources],
                          "protocolVersion": client.protocol_version}), flush=True)
        for step in steps:
            if step.get("pause"):
                open(os.path.join(pause_dir, "paused"), "w").close()
                while not os.path.exists(os.path.join(pause_dir, "go")):
                    time.sleep(0.02)
                continue
            if "subscribe" in step:
                honored = await updates.subscribe(client, listens, step["subscribe"])
                print(json.dumps({"subscribed": step["subscribe"], "honored": honored}), flush=True)
                continue
            if "watchTools" in step:
                print(json.dumps({"watchingTools": await updates.watch_tools(client, listens)}), flush=True)
                continue
            if "toolsChanged" in step:
                seen = await updates.tools_changed()
                names = [t.name for t in (await client.list_tools()).tools]
                print(json.dumps({"toolsChanged": seen, "tools": names}), flush=True)
                continue
            if "updated" in step:
                print(json.dumps({"updated": step["updated"], "seen": await updates.seen(step["updated"])}), flush=True)
                continue
            if "prompt" in step or "read" in step:
                try:
                    if "prompt" in step:
                        got = await client.get_prompt(step["prompt"], step.get("arguments", {}))
                        text = "".join(m.content.text for m in got.messages)
                    else:
                        got = await client.read_resource(step["read"])
                        text = "".join(c.text for c in got.contents)
                    print(json.dumps({"name": step.get("prompt") or step["read"], "text": text, "isError": False}), flush=True)
                except Exception as e:  # the SDK raises the JSON-RPC error
                    print(json.dumps({"name": step.get("prompt") or step["read"], "text": str(e), "isError": True}), flush=True)
                continue
            try:
                result = await client.call_tool(step["call"], step.get("arguments", {}))
            except Exception as e:  # the SDK raises the JSON-RPC error
                code = getattr(getattr(e, "error", None), "code", None)
                print(json.dumps({"name": step["call"], "text": str(e), "isError": True, "code": code}), flush=True)
                continue
            text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
            print(json.dumps({"name": step["call"], "text": text, "isError": bool(result.is_error)}), flush=True)


class Updates:
    """The resources/updated notifications heard, by URI: on the session (the handshake era) or on a listen
    stream (2026-07-28)."""

    def __init__(self):
        self.heard = {}
        self.listened = set()  # URIs whose updates count only when they come on their listen stream
        self.tools = asyncio.Event()  # a tools/list_changed since watch_tools
        self.tools_on_session = False  # the handshake era's: heard on the session, not on a listen stream

    def event(self, uri):
        return self.heard.setdefault(uri, asyncio.Event())

    async def handle(self, message):
        from mcp import types

        message = getattr(message, "root", message)
        if isinstance(message, types.ResourceUpdatedNotification) and str(message.params.uri) not in self.listened:
            self.event(str(message.params.uri)).set()
        if isinstance(message, types.ToolListChangedNotification) and self.tools_on_session:
            self.tools.set()

    async def watch_tools(self, client, listens):
        self.tools.clear()
        if client.protocol_version != "2026-07-28":
            self.tools_on_session = True
            return True
        subscription = await listens.enter_async_context(client.listen(tools_list_changed=True))

        async def hear():
            async for _ in subscription:
                self.tools.set()

        task = asyncio.ensure_future(hear())
        listens.callback(task.cancel)
        return bool(subscription.honored.tools_list_changed)

    async def tools_changed(self):
        try:
            await asyncio.wait_for(self.tools.wait(), 60)
            return True
        except asyncio.TimeoutError:
            return False

    async def subscribe(self, client, listens, uri):
        self.event(uri).clear()
        if client.protocol_version != "2026-07-28":
            with warnings.catch_warnings():  # deprecated as of 2026-07-28, still the handshake era's way
                warnings.simplefilter("ignore")
                await client.subscribe_resource(uri)
            return [uri]
        self.listened.add(uri)
        subscription = await listens.enter_async_context(client.listen(resource_subscriptions=[uri]))

        async def hear():
            async for event in subscription:
                if getattr(event, "uri", None) is not None:
                    self.event(str(event.uri)).set()

        task = asyncio.ensure_future(hear())
        listens.callback(task.cancel)
        return list(subscription.honored.resource_subscriptions or [])

    async def seen(self, uri):
        try:
            await asyncio.wait_for(self.event(uri).wait(), 60)
            return True
        except asyncio.TimeoutError:
            return False


def oauth_provider(url):
    """The SDK's OAuthClientProvider, its tokens in memory, its authorization redirect followed here."""
    import base64
    from urllib.parse import parse_qs, urlparse

    from mcp.client.auth import OAuthClientProvider
    from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

    class Memory:
        tokens = None
        client = None

        async def get_tokens(self):
            return self.tokens

        async def set_tokens(self, tokens):
            self.tokens = tokens

        async def get_client_info(self):
            return self.client

        async def set_client_info(self, info):
            self.client = info

    storage = Memory()
    redirected = {}

    async def redirect(authorization_url):
        async with httpx2.AsyncClient(follow_redirects=False) as browser:
            answer = await browser.get(authorization_url)
        query = parse_qs(urlparse(answer.headers["location"]).query)
        redirected["code"], redirected["state"] = query["code"][0], query.get("state", [None])[0]

    async def callback():
        return AuthorizationCodeResult(code=redirected["code"], state=redirected["state"])

    class Provider(OAuthClientProvider):
        def claims(self):
            payload = storage.tokens.access_token.split(".")[1]
            return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    metadata = OAuthClientMetadata(
        client_name="serve-client", redirect_uris=["http://127.0.0.1:9/callback"],
        grant_types=["authorization_code", "refresh_token"], response_types=["code"])
    return Provider(url, metadata, storage, redirect_handler=redirect, callback_handler=callback)


def option_values(options, name):
    return [options[i + 1] for i, o in enumerate(options) if o == name and i + 1 < len(options)]


def answering(options):
    """The callbacks the options ask for; each prints what it was asked."""
    from mcp import types

    callbacks = {}
    if "--elicit" in options:
        content = json.loads(option_values(options, "--elicit")[0])

        async def elicit(context, params):
            print(json.dumps({"asked": "elicitation/create", "message": params.message}), flush=True)
            if getattr(params, "mode", "form") == "url":
                return types.ElicitResult(action="accept")
            return types.ElicitResult(action="accept", content=content)

        callbacks["elicitation_callback"] = elicit
    if "--sample" in options:
        text = option_values(options, "--sample")[0]

        async def sample(context, params):
            print(json.dumps({"asked": "sampling/createMessage", "message": None}), flush=True)
            return types.CreateMessageResult(
                role="assistant", content=types.TextContent(type="text", text=text), model="serve-client")

        callbacks["sampling_callback"] = sample
    roots = option_values(options, "--root")
    if roots:
        async def list_roots(context):
            print(json.dumps({"asked": "roots/list", "message": None}), flush=True)
            return types.ListRootsResult(roots=[types.Root(uri=uri) for uri in roots])

        callbacks["list_roots_callback"] = list_roots
    return callbacks


asyncio.run(main())
