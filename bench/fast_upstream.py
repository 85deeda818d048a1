"""A fast MCP upstream for the serve --http concurrency benchmark: 2026-07-28 only, over HTTP/1.1 keep-alive,
on raw asyncio (no framework), so that what is measured is mcpconn serve rather than the upstream.

    fast_upstream.py [--no-stdin-watch]     prints "PORT <n>" once listening on 127.0.0.1; runs until killed
                                            (the flag, which bench/run.sh gives every server, changes nothing).

Answers server/discover, tools/list (one tool, echo) and tools/call of echo; anything else is "method not found".
"""
import asyncio
import json

VERSION = "2026-07-28"
META = {"io.modelcontextprotocol/serverInfo": {"name": "fast-upstream", "version": "1"}}
TOOL = {"name": "echo", "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}


def answer(message):
    method, params, rid = message.get("method"), message.get("params") or {}, message.get("id")
    if method == "server/discover":
        result = {"supportedVersions": [VERSION], "capabilities": {"tools": {}}}
    elif method == "tools/list":
        result = {"tools": [TOOL]}
    elif method == "tools/call" and params.get("name") == "echo":
        text = (params.get("arguments") or {}).get("text", "")
        result = {"content": [{"type": "text", "text": text}], "isError": False}
    else:
        return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "Method not found"}}
    result.update({"resultType": "complete", "_meta": META})
    return {"jsonrpc": "2.0", "id": rid, "result": result}


async def connection(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            message = json.loads(body) if body else {}
            if "id" not in message:
                writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                continue
            out = json.dumps(answer(message), separators=(",", ":")).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(out) + out)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
