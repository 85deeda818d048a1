// Every file of the protocol code uses JSONValue, and so does MCPConnCore above it: one re-export here instead of
// `import JSON` in each. It also keeps these files free of that import, which they must be: the fuzz targets (the
// Makefile's FUZZ_SRC_*) compile some of them with the JSON files into one module, where there is no module JSON.
@_exported import JSON
