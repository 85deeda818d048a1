"""16 clients at once (wrk, keep-alive connections) sending 2026-07-28 tool calls of `echo`, for DURATION seconds.

    serve_load.py URL DURATION PID [PID...]

The token, if the URL needs one, is in $SERVE_TOKEN. Prints one JSON line: calls per second, the calls that were
not a 200 with the echoed text, and the CPU time (user + system) per call of each PID in microseconds.
"""
import json
import os
import re
import subprocess
import sys

url, duration, pids = sys.argv[1], sys.argv[2], sys.argv[3:]
script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve-call.lua")
ticks_per_s = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks_per_s  # utime, stime


env = dict(os.environ, SERVE_TOKEN=os.environ.get("SERVE_TOKEN", "none"))
before = [cpu_seconds(p) for p in pids]
out = subprocess.run(["wrk", "-t1", "-c16", f"-d{duration}s", "-s", script, url], env=env, capture_output=True,
                     text=True, check=True).stdout
after = [cpu_seconds(p) for p in pids]
calls = int(re.search(r"(\d+) requests in", out).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
print(json.dumps({
    "calls_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
    "calls": calls, "failed": int(bad.group(1)) if bad else 0,
    "cpu_us_per_call": [round((a - b) / calls * 1e6, 1) for a, b in zip(after, before)],
}))
