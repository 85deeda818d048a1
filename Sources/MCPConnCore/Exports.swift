// Every file of the core uses JSONValue and the protocol code's types, and so does every target that imports
// MCPConnCore: re-exports here instead of `import JSON` and `import MCP` in each. They also keep the core's files
// free of those imports, which they must be: the fuzz targets (the Makefile's FUZZ_SRC_*) compile some of them
// together with JSON and MCP files into one module with swiftc, where there is no module JSON or MCP to import.
@_exported import JSON
@_exported import MCP
