"""A tiny HTTP server that misbehaves on demand, for mcpconn's fault tests.

No real MCP server is slow, malformed, truncated or oversized on request; this one is, per path. It prints
`PORT <n>` once listening and exits on SIGTERM or when stdin reaches EOF.

Paths (POST; GET where noted):
  /slow?seconds=S       waits S seconds, then answers a valid JSON-RPC result
  /malformed            200 application/json that is not JSON
  /not-jsonrpc          200 JSON that is not JSON-RPC
  /html                 200 text/html page
  /500 /401 /403 /404   those statuses
  /truncated-sse        200 text/event-stream that stops mid-event and closes
  /truncated-json       Content-Length larger than the body, then close
  /oversized?mb=N       200 application/json streaming an N MiB JSON string
  /sse-never-ends       200 text/event-stream sending `: ping` every 0.2 s, never answering
  /silent/sse           (GET) the same as a legacy HTTP+SSE stream: never sends its endpoint event
  /mute/sse             (GET) a legacy stream that names its endpoint, /mute/messages, which accepts every
                        POST (202) and never answers on the stream
  /redirect?to=URL&code=C   redirects (C = 301, 302, 307, 308; default 307) to URL
  /echo-headers         a valid JSON-RPC result holding the request headers; each request's headers are
                        appended as one JSON line to --header-log
  /version?v=V          an initialize answer naming protocol version V (and 202 for notifications)
  /mcp-slow?delay=S&era=handshake|modern
                        a minimal valid MCP server (tools: echo) that waits S seconds before every answer;
                        it counts requests in flight at once
                        (its tools come from --tools-file when given, re-read on every tools/list; its
                        prompts, resources and resource templates from --surface-file, a JSON object with any of
                        "prompts", "resources", "resourceTemplates", re-read on every request: the capabilities
                        declare what the file holds, and a list it lacks is "Method not found")
  /stats                {"max_in_flight": n, "requests": n} for /mcp-slow; POST /stats zeroes them
  /hostile/ansi         the same minimal MCP server, without delay, whose every string is hostile to a terminal
                        (ESC sequences: OSC 52 clipboard write, window title, clear screen; BEL, NUL, CR, DEL,
                        C1 U+009B, bidi U+202E and zero-width characters): server name and version, tool
                        names and descriptions, call results (text, image mime type, resource URIs), an isError
                        result (tool `fail`) and a JSON-RPC error (tool `rpc-error`)
  /hostile/ansi-error   answers initialize with a JSON-RPC error whose message is as hostile
  /hostile/ansi-http    500 text/plain whose body is as hostile (seen in the --verbose trace)
  /oauth-fallback/mcp   401 with a bare `WWW-Authenticate: Bearer realm=...` (no resource_metadata): OAuth
                        discovery must find the metadata at the well-known fallbacks, served here (GET):
    /.well-known/oauth-protected-resource/oauth-fallback/mcp   resource metadata naming the issuer
                        <base>/tenant/a; the authorization server metadata exists only at OpenID's
    /.well-known/openid-configuration/tenant/a                 (the RFC 8414 path answers 404)
  /oauth-no-pkce/mcp    401 naming resource metadata whose authorization server lacks PKCE S256
  /hostile/echo-secret?at=W
                        a minimal MCP server (handshake era) that echoes the request's credential (X-API-Key
                        or Authorization value) back at W: rpc (tools/call's JSON-RPC error), iserror (an
                        isError result), text (a tool result), 401 or 500 (a JSON-RPC error body with that
                        status), identity (serverInfo name and version), tools (a tool description)
  /hostile/framing/negative-length   (raw bytes) 200 with `Content-Length: -5`
  /hostile/framing/bad-chunk         (raw bytes) 200 chunked, whose first chunk size is not hex (`zz`)
  /hostile/framing/chunk-overflow    (raw bytes) 200 chunked, whose first chunk size overflows 64 bits
  /hostile/flood?n=N&key=K  answers every request with an event stream of N server requests (roots/list,
                        ~66 bytes each) and never the answer; other POSTs (the client's answers) are counted
                        per K and accepted (202)
  /hostile/flood-stats?key=K  {"answers": n}: the answers /hostile/flood received for K
  /hostile/flood/sse?n=N&key=K  (GET) the same flood on a legacy HTTP+SSE stream, after naming its endpoint,
                        /hostile/flood-answers?key=K, which counts the answers it gets for /hostile/flood-stats
                        (every POST is accepted with 202; only those without a method are answers)
  /hostile/500-jsonrpc  HTTP 500 whose body is a JSON-RPC error answering the request
  /hostile/cut-stream?retry=MS&key=K  answers every request (POST) and every resumption (GET) with an event
                        stream holding only a priming event (a fresh id, `retry: MS`, empty data), then closes
  /hostile/cut-stats?key=K  {"resumed_from": [...]}: the Last-Event-ID of each GET to cut-stream for K
"""

import argparse
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from lifetime import exit_when_stdin_closes


# Broken HTTP framing, written raw: http.server would not produce it.
_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
_ANSWER = b'{"jsonrpc":"2.0","id":1,"result":{}}'
FRAMING = {
    "negative-length": _HEAD + b"Content-Length: -5\r\n\r\n" + _ANSWER,
    "bad-chunk": _HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n" + _ANSWER + b"\r\n0\r\n\r\n",
    "chunk-overflow": _HEAD + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n" + _ANSWER
    + b"\r\n0\r\n\r\n",
}

STATS_LOCK = threading.Lock()
STATS = {"in_flight": 0, "max_in_flight": 0, "requests": 0}
FLOOD_ANSWERS = {}
CUT_RESUMES = {}
CUT_EVENTS = [0]


# Terminal attacks: OSC 52 (clipboard write), OSC 0 (window title), CSI 2J (clear screen), BEL, CR, DEL,
# U+009B (C1 CSI), U+202E (right-to-left override), U+200B (zero-width space), NUL (last: SQLite text ends there).
ANSI = "\x1b]52;c;cHduZWQ=\x07\x1b]0;pwned\x07\x1b[2J\r\x7f\u009b31m\u202e\u200b\x00"
HOSTILE = {
    "info": {"name": "evil" + ANSI + "server", "version": "6.6" + ANSI},
    "tools": [
        {"name": "echo" + ANSI, "description": "Echoes" + ANSI + "back",
         "inputSchema": {"type": "object", "properties": {}}},
        {"name": "fail", "description": "Fails.", "inputSchema": {"type": "object"}},
        {"name": "rpc-error", "description": "Errs.", "inputSchema": {"type": "object"}},
    ],
    "result": {"content": [
        {"type": "text", "text": "text" + ANSI + "\nline two\tend"},
        {"type": "image", "mimeType": "image/png" + ANSI, "data": "AAAA"},
        {"type": "resource_link", "uri": "file:///link" + ANSI, "name": "name" + ANSI},
        {"type": "resource", "resource": {"uri": "res:" + ANSI, "mimeType": "text/x" + ANSI, "blob": "AA=="}},
    ], "isError": False},
    "failure": {"content": [{"type": "text", "text": "failed" + ANSI}], "isError": True},
    "error": "error" + ANSI + "message",
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    header_log = None
    tools_file = None
    surface_file = None

    def log_message(self, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def send(self, status, ctype, payload, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def result(self, req, result):
        rid = req.get("id") if isinstance(req, dict) else None
        if isinstance(req, dict) and "id" not in req:
            self.send(202, "application/json", b"")
            return
        self.send(200, "application/json", json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}).encode())

    def base(self):
        return f"http://{self.headers.get('Host')}"

    def as_metadata(self, path, methods):
        b = self.base() + path
        return {"issuer": b, "authorization_endpoint": b + "/authorize", "token_endpoint": b + "/token",
                "registration_endpoint": b + "/register", "code_challenge_methods_supported": methods}

    def do_GET(self):
        if self.path.startswith("/mcp-slow"):
            self.send(405, "text/plain", b"no GET stream")  # as the spec lets a server say; not counted
            return
        self.route(None)

    def do_POST(self):
        self.route(self.body())

    def do_DELETE(self):
        if self.path.startswith("/mcp-slow"):
            self.slow_mcp(None, delete=True)
            return
        if self.path.startswith("/hostile/"):
            self.minimal_mcp(None, {}, delete=True)
            return
        self.send(405, "text/plain", b"no")

    def slow_mcp(self, req, q=None, delete=False):
        q = q or {}
        with STATS_LOCK:
            STATS["in_flight"] += 1
            STATS["requests"] += 1
            STATS["max_in_flight"] = max(STATS["max_in_flight"], STATS["in_flight"])
        try:
            time.sleep(float(q.get("delay", "0.2")))
        finally:
            with STATS_LOCK:
                STATS["in_flight"] -= 1
        self.minimal_mcp(req, q, delete)

    def minimal_mcp(self, req, q, delete=False, hostile=False):
        if delete:
            self.send(200, "application/json", b"")
            return
        if not isinstance(req, dict) or req.get("jsonrpc") != "2.0":
            self.send(400, "text/plain", b"not JSON-RPC")
            return
        method = req.get("method")
        rid = req.get("id")
        modern = q.get("era") == "modern"
        info = HOSTILE["info"] if hostile else {"name": "slow-mcp", "version": "1.0"}

        def answer(result, status=200, extra=()):
            body = {"jsonrpc": "2.0", "id": rid, "result": result}
            self.send(status, "application/json", json.dumps(body).encode(), extra)

        def error(code, message, status):
            body = {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}
            self.send(status, "application/json", json.dumps(body).encode())

        surface = {} if hostile else Handler.surface()
        capabilities = {"tools": {}}
        if "prompts" in surface:
            capabilities["prompts"] = {}
        if "resources" in surface or "resourceTemplates" in surface:
            capabilities["resources"] = {}
        lists = {"prompts/list": "prompts", "resources/list": "resources",
                 "resources/templates/list": "resourceTemplates"}

        if "id" not in req:
            self.send(202, "application/json", b"")
        elif method == "server/discover":
            if modern:
                answer({"supportedVersions": ["2026-07-28"], "capabilities": capabilities, "resultType": "complete",
                        "_meta": {"io.modelcontextprotocol/serverInfo": info}})
            else:
                error(-32600, "Bad Request: Missing session ID", 400)
        elif method == "initialize" and hostile == "error":
            error(-32603, HOSTILE["error"], 200)
        elif method == "initialize":
            asked = (req.get("params") or {}).get("protocolVersion")
            v = asked if asked in ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25") else "2025-11-25"
            answer({"protocolVersion": v, "capabilities": capabilities, "serverInfo": info},
                   extra=[("Mcp-Session-Id", "s-%d" % threading.get_ident())])
        elif method == "ping":
            answer({})
        elif method == "tools/list":
            tools = [{"name": "echo", "description": "Echo.",
                      "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}]
            if hostile:
                tools = HOSTILE["tools"]
            elif Handler.tools_file and os.path.exists(Handler.tools_file):
                with open(Handler.tools_file) as f:
                    tools = json.load(f)
            answer({"tools": tools})
        elif lists.get(method) in surface and surface[lists[method]] == "error":  # a list that fails
            error(-32603, "cannot list " + lists[method], 200)
        elif lists.get(method) in surface:
            answer({lists[method]: surface[lists[method]]})
        elif method == "tools/call" and hostile:
            tool = (req.get("params") or {}).get("name")
            if tool == "rpc-error":
                error(-32000, HOSTILE["error"], 200)
            else:
                answer(HOSTILE["failure"] if tool == "fail" else HOSTILE["result"])
        elif method == "tools/call":
            text = ((req.get("params") or {}).get("arguments") or {}).get("text", "")
            answer({"content": [{"type": "text", "text": text}], "isError": False})
        else:
            error(-32601, "Method not found", 404 if modern else 200)

    @staticmethod
    def surface():
        if not Handler.surface_file or not os.path.exists(Handler.surface_file):
            return {}
        with open(Handler.surface_file) as f:
            return json.load(f)

    def echo_secret(self, req, at):
        secret = self.headers.get("X-API-Key") or self.headers.get("Authorization") or ""
        if not isinstance(req, dict):
            self.send(405, "text/plain", b"no")
            return
        rid, method = req.get("id"), req.get("method")

        def error(status):
            body = {"jsonrpc": "2.0", "id": rid, "error": {"code": -32000, "message": "bad key " + secret}}
            self.send(status, "application/json", json.dumps(body).encode())

        if at in ("401", "500"):
            error(int(at))
        elif "id" not in req:
            self.send(202, "application/json", b"")
        elif method == "initialize":
            named = at == "identity"
            info = {"name": "srv-" + secret if named else "echo", "version": secret if named else "1"}
            self.result(req, {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": info})
        elif method == "server/discover":
            error(400)
        elif method == "tools/list":
            desc = "uses " + secret if at == "tools" else "Echo."
            self.result(req, {"tools": [{"name": "echo", "description": desc, "inputSchema": {"type": "object"}}]})
        elif method == "tools/call" and at == "rpc":
            error(200)
        elif method == "tools/call":
            self.result(req, {"content": [{"type": "text", "text": "you sent " + secret}], "isError": at == "iserror"})
        else:
            self.result(req, {})

    def route(self, req):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        p = url.path
        if p == "/mcp-slow":
            self.slow_mcp(req, q)
        elif p == "/hostile/echo-secret":
            self.echo_secret(req, q.get("at", ""))
        elif p in ("/hostile/ansi", "/hostile/ansi-error"):
            self.minimal_mcp(req, q, hostile="error" if p.endswith("error") else True)
        elif p == "/hostile/ansi-http":
            self.send(500, "text/plain; charset=utf-8", ("error" + ANSI + "\nbody").encode())
        elif p == "/stats":
            with STATS_LOCK:
                snapshot = dict(STATS)
                if self.command == "POST":
                    STATS.update({"max_in_flight": 0, "requests": 0})
            self.send(200, "application/json", json.dumps(snapshot).encode())
        elif p in ("/oauth-fallback/mcp", "/oauth-no-pkce/mcp"):
            extra = [("WWW-Authenticate", 'Bearer realm="faults"')]
            if p == "/oauth-no-pkce/mcp":
                extra = [("WWW-Authenticate", f'Bearer resource_metadata="{self.base()}/no-pkce/prm", scope="a b"')]
            self.send(401, "application/json", b'{"error":"invalid_token"}', extra)
        elif p == "/.well-known/oauth-protected-resource/oauth-fallback/mcp":
            self.send(200, "application/json", json.dumps({
                "resource": f"{self.base()}/oauth-fallback/mcp", "authorization_servers": [f"{self.base()}/tenant/a"],
                "scopes_supported": ["files:read"]}).encode())
        elif p == "/.well-known/openid-configuration/tenant/a":
            self.send(200, "application/json", json.dumps(self.as_metadata("/tenant/a", ["S256"])).encode())
        elif p == "/no-pkce/prm":
            self.send(200, "application/json", json.dumps({
                "resource": f"{self.base()}/oauth-no-pkce/mcp", "authorization_servers": [f"{self.base()}/np"]}).encode())
        elif p == "/.well-known/oauth-authorization-server/np":
            self.send(200, "application/json", json.dumps(self.as_metadata("/np", ["plain"])).encode())
        elif p == "/hostile/flood":
            self.flood(req, int(q.get("n", "100000")), q.get("key", ""))
        elif p == "/hostile/flood/sse":
            self.start_event_stream()
            self.wfile.write(b"event: endpoint\ndata: /hostile/flood-answers?key=%s\n\n" % q.get("key", "").encode())
            self.flood_events(int(q.get("n", "100000")))
        elif p == "/hostile/flood-answers":
            # Only answers count: the client's own requests (initialize) are posted here too.
            if isinstance(req, dict) and "method" not in req:
                self.count_flood_answer(q.get("key", ""))
            else:
                self.send(202, "application/json", b"")
        elif p == "/hostile/flood-stats":
            with STATS_LOCK:
                n = FLOOD_ANSWERS.get(q.get("key", ""), 0)
            self.send(200, "application/json", json.dumps({"answers": n}).encode())
        elif p == "/hostile/cut-stream":
            self.cut_stream(req, q.get("retry", "10"), q.get("key", ""))
        elif p == "/hostile/cut-stats":
            with STATS_LOCK:
                ids = list(CUT_RESUMES.get(q.get("key", ""), []))
            self.send(200, "application/json", json.dumps({"resumed_from": ids}).encode())
        elif p == "/hostile/500-jsonrpc":
            rid = req.get("id") if isinstance(req, dict) else None
            body = {"jsonrpc": "2.0", "id": rid, "error": {"code": -32603, "message": "the database is down"}}
            self.send(500, "application/json", json.dumps(body).encode())
        elif p == "/slow":
            time.sleep(float(q.get("seconds", "5")))
            self.result(req, {"ok": True})
        elif p == "/malformed":
            self.send(200, "application/json", b'{"jsonrpc": "2.0", "id": 1, "result": {')
        elif p == "/not-jsonrpc":
            self.send(200, "application/json", b'{"hello": 1}')
        elif p == "/html":
            self.send(200, "text/html; charset=utf-8", b"<!doctype html><html><body><h1>Welcome</h1></body></html>")
        elif p in ("/500", "/401", "/403", "/404"):
            extra = [("WWW-Authenticate", 'Bearer realm="x"')] if p == "/401" else []
            self.send(int(p[1:]), "text/plain", b"status " + p[1:].encode(), extra)
        elif p == "/truncated-sse":
            self.start_event_stream()
            self.wfile.write(b'event: message\ndata: {"jsonrpc":"2.0","id":1,"res')
            self.wfile.flush()
            self.close_connection = True
        elif p == "/truncated-json":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"jsonrpc":"2.0","id":1,"result":{"x":')
            self.wfile.flush()
            self.close_connection = True
        elif p == "/oversized":
            mb = int(q.get("mb", "40"))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * 65536
            try:
                self.chunk(b'{"jsonrpc":"2.0","id":1,"result":{"text":"')
                for _ in range(mb * 16):
                    self.chunk(chunk)
                self.chunk(b'"}}')
                self.chunk(b"")
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        elif p == "/mute/messages":
            self.send(202, "text/plain", b"accepted")  # and never answered on the stream
        elif p in ("/sse-never-ends", "/silent/sse", "/mute/sse"):
            self.start_event_stream()
            try:
                if p == "/mute/sse":
                    self.wfile.write(b"event: endpoint\ndata: /mute/messages\n\n")
                for _ in range(3000):  # bounded: ten minutes at most
                    self.wfile.write(b": ping\n\n")
                    self.wfile.flush()
                    time.sleep(0.2)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        elif p.startswith("/hostile/framing/") and p.rsplit("/", 1)[1] in FRAMING:
            self.wfile.write(FRAMING[p.rsplit("/", 1)[1]])
            self.wfile.flush()
            self.close_connection = True
        elif p == "/redirect":
            code = int(q.get("code", "307"))
            self.send(code, "text/plain", b"moved", [("Location", q.get("to", "/"))])
        elif p == "/echo-headers":
            headers = {k: v for k, v in self.headers.items()}
            if Handler.header_log:
                with open(Handler.header_log, "a") as f:
                    f.write(json.dumps({"path": self.path, "headers": headers}) + "\n")
            self.result(req, {"headers": headers, "protocolVersion": "2025-06-18", "serverInfo": {"name": "echo"},
                              "capabilities": {}, "tools": []})
        elif p == "/version":
            self.result(req, {"protocolVersion": q.get("v", "1999-01-01"), "capabilities": {},
                              "serverInfo": {"name": "odd"}})
        else:
            self.send(404, "text/plain", b"unknown path")

    def start_event_stream(self):
        """A 200 event-stream head; the connection closes when the handler ends the stream."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()

    def count_flood_answer(self, key):
        with STATS_LOCK:
            FLOOD_ANSWERS[key] = FLOOD_ANSWERS.get(key, 0) + 1
        self.send(202, "application/json", b"")

    def flood(self, req, n, key):
        if not (isinstance(req, dict) and "method" in req and "id" in req):
            self.count_flood_answer(key)
            return
        self.start_event_stream()
        self.flood_events(n)

    def flood_events(self, n):
        event = b'event: message\ndata: {"jsonrpc":"2.0","id":"f-%d","method":"roots/list"}\n\n'
        try:
            for start in range(0, n, 1000):
                self.wfile.write(b"".join(event % i for i in range(start, min(n, start + 1000))))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def cut_stream(self, req, retry, key):
        with STATS_LOCK:
            if self.command == "GET":
                CUT_RESUMES.setdefault(key, []).append(self.headers.get("Last-Event-ID"))
            CUT_EVENTS[0] += 1
            event_id = "cut-%d" % CUT_EVENTS[0]
        if self.command == "POST" and not (isinstance(req, dict) and "id" in req and "method" in req):
            self.send(202, "application/json", b"")
            return
        self.start_event_stream()
        self.wfile.write(b"id: %s\nretry: %s\ndata:\n\n" % (event_id.encode(), retry.encode()))
        self.wfile.flush()
        self.close_connection = True

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))




def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--header-log")
    ap.add_argument("--tools-file", help="JSON array served by /mcp-slow's tools/list (re-read each time)")
    ap.add_argument("--surface-file", help="JSON object of /mcp-slow's prompts, resources, resourceTemplates")
    ap.add_argument("--no-stdin-watch", action="store_true")
    args = ap.parse_args()
    Handler.header_log = args.header_log
    Handler.tools_file = args.tools_file
    Handler.surface_file = args.surface_file
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer((args.host, 0), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    if not args.no_stdin_watch:
        exit_when_stdin_closes()
    server.serve_forever()


if __name__ == "__main__":
    main()
