"""One load run of bench/gateway-load.sh: wrk with CONNECTIONS keep-alive connections sending 2026-07-28 tool calls
of `echo` (bench/serve-call.lua, the token in $SERVE_TOKEN) for DURATION seconds, while the RSS of SERVE_PID is
sampled every second (and /metrics scraped with $SCRAPE_TOKEN, when set, as a Prometheus server would, but every
second).

    gateway_load.py URL CONNECTIONS DURATION SERVE_PID UPSTREAM_PID

Prints one JSON line: calls per second, p50 and p99 in ms (wrk's latency distribution), failed calls, the CPU time
per call of serve and of the upstream in microseconds, the RSS samples in KiB, and the scrapes that failed.
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

url, connections, duration, serve_pid, upstream_pid = sys.argv[1:6]
script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve-call.lua")
ticks_per_s = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks_per_s  # utime, stime


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def scrape(token):
    metrics = url.replace("/mcp", "/metrics")
    request = urllib.request.Request(metrics, headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status == 200 and b"mcpconn_calls_total" in answer.read()
    except OSError:
        return False


env = dict(os.environ, SERVE_TOKEN=os.environ.get("SERVE_TOKEN", "none"))
scrape_token = os.environ.get("SCRAPE_TOKEN")
pids = [serve_pid, upstream_pid]
before = [cpu_seconds(p) for p in pids]
threads = "2" if int(connections) >= 2 else "1"
wrk = subprocess.Popen(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script, url],
                       env=env, stdout=subprocess.PIPE, text=True)
samples, failed_scrapes = [], 0
start = time.monotonic()
while wrk.poll() is None:
    samples.append(rss_kib(serve_pid))
    if scrape_token and not scrape(scrape_token):
        failed_scrapes += 1
    time.sleep(max(0.0, 1.0 - (time.monotonic() - start) % 1.0))
out = wrk.stdout.read()
after = [cpu_seconds(p) for p in pids]
calls = int(re.search(r"(\d+) requests in", out).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
print(json.dumps({
    "calls_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
    "p50_ms": ms(re.search(r"\n\s+50%\s+(\S+)", out).group(1)),
    "p99_ms": ms(re.search(r"\n\s+99%\s+(\S+)", out).group(1)),
    "calls": calls,
    "failed": (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0),
    "cpu_us_per_call": [round((a - b) / calls * 1e6, 1) for a, b in zip(after, before)],
    "rss_kib": samples, "failed_scrapes": failed_scrapes,
}))
