// Every file of the core uses JSONValue, and so does every target that imports MCPConnCore: one re-export here
// instead of `import JSON` in each. It also keeps the core's files free of that import, which they must be: the
// fuzz targets (the Makefile's FUZZ_SRC_*) compile some of them together with the JSON files into one module
// with swiftc, where there is no module JSON to import.
@_exported import JSON
