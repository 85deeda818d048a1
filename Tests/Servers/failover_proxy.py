"""A TCP proxy in front of several replicas of `mcpconn serve --http`, as a load balancer fails over: each new
connection goes to the first backend that accepts it, so once a replica dies its clients land on the next one.

    failover_proxy.py --backend PORT [--backend PORT]...

Binds 127.0.0.1 on an OS-chosen port and prints `PORT <n>`; exits when stdin closes. Bytes are relayed as they come
(HTTP keep-alive and server-sent events included); when either side closes, so does the other.
"""

import argparse
import asyncio

from lifetime import exit_when_stdin_closes


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", type=int, action="append", required=True)
    backends = parser.parse_args().backend

    async def accept(client_reader, client_writer):
        for port in backends:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                continue
            await asyncio.gather(pipe(client_reader, writer), pipe(reader, client_writer))
            return
        client_writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    exit_when_stdin_closes()
    async with server:
        await server.serve_forever()


asyncio.run(main())
