"""Runs a server binary that takes `--port N` (e.g. the Swift SDK's mcp-everything-server) under the test
servers' rules: it picks a free port, starts the binary on it, prints `PORT <n>` once the port accepts
connections, and ends the binary when its own stdin closes.

Usage: binary_server.py BINARY [ARGS...]
"""

import ctypes
import os
import socket
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    # Tests end servers with SIGKILL, which this script cannot pass on: the kernel does it (PR_SET_PDEATHSIG).
    ctypes.CDLL(None).prctl(1, 9)


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def main():
    port = free_port()
    child = subprocess.Popen(sys.argv[1:] + ["--port", str(port)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
    for _ in range(600):  # the binary's start-up, bounded (60 s)
        if child.poll() is not None:
            sys.exit(f"{sys.argv[1]} exited with {child.returncode}")
        if accepts(port):
            break
        time.sleep(0.1)
    else:
        child.kill()
        sys.exit(f"{sys.argv[1]} never listened on {port}")
    print(f"PORT {port}", flush=True)
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except Exception:
        pass
    child.kill()
    os._exit(0)


if __name__ == "__main__":
    main()
