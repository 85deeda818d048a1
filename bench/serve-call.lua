-- wrk script: one 2026-07-28 tools/call of `echo` per request to `mcpconn serve --http` (token in $SERVE_TOKEN,
-- the tool's name in $SERVE_TOOL); any answer but 200 counts as an error in wrk's report.
local tool = os.getenv("SERVE_TOOL") or "echo"
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SERVE_TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = tool
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' .. tool .. '","arguments":{"text":"hi"},'
  .. '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
function response(status, headers, body)
  if status ~= 200 or not body:find('"text":"hi"', 1, true) then wrk.thread:stop() end
end
