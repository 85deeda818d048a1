"""A misbehaving MCP server over stdio for mcpconn's transport tests (plain Python, no SDK).

    stdio_fault_server.py MODE [--pidfile PATH] [--mb N]

Answers initialize, tools/list, tools/call (echo) and ping by hand, one JSON object a line, except where MODE
says otherwise. With --pidfile (modes other than grandchild), writes its own pid there once it runs. With
--daemon PATH, first starts a daemon the way daemons start (a child calls setsid(), forks it and exits: it has
left our process group and its parent is gone), which writes its pid to PATH and sleeps an hour. With
--tools FILE, tools/list lists the names in FILE (read at each listing). Other
arguments are ignored (tests add a marker to find their processes).
  normal           a well-behaved server that exits at stdin EOF
  ignore-eof       keeps running after stdin EOF
  ignore-term      keeps running after stdin EOF and ignores SIGTERM
  grandchild       starts a grandchild that ignores SIGTERM (and keeps our stdout open), writes its pid to
                   --pidfile before serving
  exit-at-once     says "GITHUB_TOKEN not set" on stderr and exits with status 1 before reading anything
  garbage          answers every request with a line that starts with "{" but is not JSON
  log-lines        writes log lines on stdout before and between its answers
  only-logs-exit   writes log lines on stdout, never JSON-RPC, and exits at the first request
  only-logs-hang   writes log lines on stdout, never JSON-RPC, and never answers
  silent           reads requests and never answers
  stubborn         never answers, ignores stdin EOF and SIGTERM (only SIGKILL ends it)
  slow             a tools/call of echo with text "slow" is answered after 30 s (from a thread; the loop goes on
                   reading); with --log PATH every message's method (or "answer") is appended to PATH
  stderr-flood     writes --mb MiB of log lines on stderr first, then serves
  server-requests  asks roots/list and ping of the client before answering each request; the answer to a
                   tools/call carries the client's answers
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

MODE = sys.argv[1]
ARGS = sys.argv[2:]


def option(name, default=None):
    return ARGS[ARGS.index(name) + 1] if name in ARGS else default


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def send(message):
    out(json.dumps(message))


def log(text):
    out(text)


def answer(request):
    method, rid = request.get("method"), request.get("id")
    params = request.get("params") or {}
    if method == "initialize":
        result = {
            "protocolVersion": params.get("protocolVersion", "2025-06-18"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "stdio-fault", "version": "0"},
        }
    elif method == "tools/list":
        tools_file = option("--tools")  # tool names, one a line, read at each listing
        names = open(tools_file).read().split() if tools_file else ["echo"]
        result = {"tools": [{"name": n, "inputSchema": {"type": "object"}} for n in names]}
    elif method == "tools/call":
        text = (params.get("arguments") or {}).get("text", "")
        result = {"content": [{"type": "text", "text": text}]}
    elif method == "ping":
        result = {}
    else:
        return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "Method not found"}}
    return {"jsonrpc": "2.0", "id": rid, "result": result}


def requests():
    """The client's messages, one a line; answers to our own requests are yielded too."""
    for line in sys.stdin:
        line = line.strip()
        if line:
            yield json.loads(line)


def ask_client(messages):
    """server-requests: asks roots/list and ping, returns the client's answers by id."""
    send({"jsonrpc": "2.0", "id": "s-roots", "method": "roots/list"})
    send({"jsonrpc": "2.0", "id": "s-ping", "method": "ping"})
    answers = {}
    for m in messages:
        if m.get("id") in ("s-roots", "s-ping") and "method" not in m:
            answers[m["id"]] = m
            if len(answers) == 2:
                return answers
    return answers


def record(m):
    path = option("--log")
    if path:
        with open(path, "a") as f:
            f.write((m.get("method") or "answer") + "\n")


def serve():
    messages = requests()
    for m in messages:
        record(m)
        if MODE == "slow" and m.get("method") == "tools/call" and (m.get("params") or {}).get("arguments", {}).get("text") == "slow":
            threading.Thread(target=lambda m=m: (time.sleep(30), send(answer(m))), daemon=True).start()
            continue
        if "id" not in m or "method" not in m:
            continue  # a notification, or an answer we did not ask for
        if MODE in ("silent", "stubborn", "only-logs-hang"):
            continue
        if MODE == "only-logs-exit":
            sys.exit(0)
        if MODE == "garbage":
            out('{"jsonrpc": "2.0", "id": ' + json.dumps(m["id"]) + ', "result": {oops')
            continue
        if MODE == "log-lines":
            log("INFO handling " + m["method"])
            log("")
        a = answer(m)
        if MODE == "server-requests":
            got = ask_client(messages)
            if m["method"] == "tools/call":
                a["result"]["content"][0]["text"] = json.dumps(
                    {k: v.get("result", v.get("error")) for k, v in got.items()}, sort_keys=True)
        send(a)
        if MODE == "log-lines":
            log("[INFO] answered " + m["method"])


def start_daemon(pidfile):
    code = (
        "import os, sys, time\n"
        "if os.fork():\n"
        "    os._exit(0)\n"
        "open(sys.argv[1] + '.tmp', 'w').write(str(os.getpid()))\n"
        "os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
        "time.sleep(3600)\n"
    )
    # Our other arguments (the tests' marker) go along, so the daemon can be found by them.
    subprocess.Popen([sys.executable, "-c", code, pidfile] + ARGS, start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).wait()
    while not os.path.exists(pidfile):
        time.sleep(0.01)


def main():
    if MODE == "exit-at-once":
        sys.stderr.write("Traceback (most recent call last):\n  File \"server.py\", line 3\n")
        sys.stderr.write("RuntimeError: GITHUB_TOKEN not set\n")
        sys.stderr.flush()
        sys.exit(1)
    if MODE in ("ignore-term", "stubborn"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if option("--daemon"):
        start_daemon(option("--daemon"))
    if MODE != "grandchild" and option("--pidfile"):
        pidfile = option("--pidfile")
        open(pidfile + ".tmp", "w").write(str(os.getpid()))
        os.rename(pidfile + ".tmp", pidfile)
    if MODE == "grandchild":
        pidfile = option("--pidfile")
        code = (
            "import os, signal, sys, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "open(sys.argv[1] + '.tmp', 'w').write(str(os.getpid()))\n"
            "os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
            "time.sleep(3600)\n"
        )
        # stdout stays inherited: the grandchild holds the client's pipe open after we exit.
        subprocess.Popen([sys.executable, "-c", code, pidfile], stdin=subprocess.DEVNULL)
        while not os.path.exists(pidfile):
            time.sleep(0.01)
    if MODE == "stderr-flood":
        chunk = ("x" * 99 + "\n") * 655  # 64 KiB-ish of 100-byte lines
        for _ in range(int(option("--mb", "8")) * 16):
            sys.stderr.write(chunk)
        sys.stderr.flush()
    if MODE.startswith("only-logs") or MODE == "log-lines":
        log("Starting server v1.2 (this line should have gone to stderr)")
    serve()
    if MODE in ("ignore-eof", "ignore-term", "stubborn"):
        while True:
            time.sleep(3600)


main()
