"""Writes a client config file of N servers for the import benchmark: bench/big_config.py FORMAT N PATH.

A third are open remote servers, a third carry an API key header read from $BENCH_KEY at import, a third are
local servers with one sealed environment variable, as a large team's shared config might.
"""

import json
import sys

fmt, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def entry(i):
    if i % 3 == 0:
        return {"type": "http", "url": f"https://mcp{i}.example.com/mcp"}
    if i % 3 == 1:
        return {"type": "http", "url": f"https://mcp{i}.example.com/mcp", "headers": {"X-API-Key": "${BENCH_KEY}"}}
    return {"type": "stdio", "command": "/usr/bin/env", "args": ["server", str(i)], "env": {"LEVEL": f"v{i}"}}


if fmt == "claude-code":
    with open(path, "w") as f:
        json.dump({"mcpServers": {f"server-{i}": entry(i) for i in range(n)}}, f, indent=2)
else:  # codex
    with open(path, "w") as f:
        for i in range(n):
            e = entry(i)
            f.write(f"[mcp_servers.server-{i}]\n")
            if "url" in e:
                f.write(f'url = "{e["url"]}"\n')
                if "headers" in e:
                    f.write('env_http_headers = { "X-API-Key" = "BENCH_KEY" }\n')
            else:
                f.write(f'command = "{e["command"]}"\nargs = {json.dumps(e["args"])}\nenv = {{ LEVEL = "v{i}" }}\n')
            f.write("\n")
