// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "mcpconn",
    // The minimum for the code's macOS branches to compile against; macOS itself is neither built nor tested
    // here (README, "Platforms"): Linux is.
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mcpconn", targets: ["mcpconn"]),
        // `serve --http`: a program of its own, which `mcpconn serve --http` execs, so that SwiftNIO's size and
        // start-up cost (the runtime scans every protocol conformance record of a binary) stay off every other verb.
        .executable(name: "mcpconn-serve-http", targets: ["mcpconn-serve-http"]),
        // The parent of every local server (stdio connector): ends what the server leaves behind, even when
        // mcpconn is killed. Plain C (no Swift runtime: about a millisecond per start); found next to mcpconn.
        .executable(name: "mcpconn-reaper", targets: ["mcpconn-reaper"]),
        .library(name: "MCPConnCore", targets: ["MCPConnCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // Local MCP servers over stdio. Its default trait (SubprocessFoundation: Data and Foundation string
        // encodings in its API) is not needed: bytes and Swift strings are enough here.
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2", traits: []),
        // FilePath, for swift-subprocess's API (already one of its dependencies).
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        // The HTTP server of `serve --http` (NIOHTTP1 only: no TLS, no HTTP/2; loopback by default).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // Codex's config.toml for import/export (toml++ underneath: TOML 1.0, errors with line numbers).
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // JWT checks of `serve --http --oauth-issuer` (JWKS, RS256/ES256/EdDSA): mcpconn-serve-http only, so that
        // swift-crypto and swift-certificates stay off every other verb.
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        // `/metrics` of `serve --http --clients`: the Prometheus text format (on mcpconn-serve-http only).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]),
        // Headers only: libcurl itself is loaded with dlopen by the verbs that need it (see shim.h).
        .systemLibrary(
            name: "CCurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]),
        // Headers only, like CCurl: libpq is loaded with dlopen when a postgres URL is used (see shim.h).
        .systemLibrary(
            name: "CLibPQ",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]),
        // prctl(2) is variadic in C, out of Swift's reach: a two-function C target for process hardening.
        .target(name: "CProcess"),
        // CProcess for reaper_protocol.h, what it and mcpconn agree on.
        .executableTarget(name: "mcpconn-reaper", dependencies: ["CProcess"]),
        // JSON values, parser and serializer, below everything else: a target of its own so that the compiler
        // keeps it free of the rest (issue 30, the first step of splitting MCPConnCore). No dependencies.
        .target(name: "JSON"),
        // The MCP protocol: messages, the client and its transports (HTTP over libcurl, local servers' pipes). It
        // imports nothing of MCPConnCore, so the compiler keeps the seam (issue 30); its errors become exit
        // statuses in MCPConnCore (Connectors/ExchangeErrors.swift).
        .target(
            name: "MCP",
            dependencies: [
                "JSON",
                "CProcess",
                "CCurl",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .target(
            name: "MCPConnCore",
            dependencies: [
                "JSON",
                "MCP",
                "CProcess",
                "CSodium",
                "CCurl",
                "CLibPQ",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]),
        .executableTarget(
            name: "mcpconn",
            dependencies: [
                "MCPConnCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            plugins: ["BuildInfo"]),
        // `--version` names the commit: BuildInfo.swift, written by this plugin before each build.
        .plugin(name: "BuildInfo", capability: .buildTool()),
        .executableTarget(
            name: "mcpconn-serve-http",
            dependencies: [
                "MCPConnCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        // CSodium: credentials in the old secretbox form (schema 7), which only the tests of the migration write.
        .target(
            name: "MCPConnTestSupport",
            dependencies: ["CSodium"],
            path: "Tests/TestSupport"),
        .testTarget(
            name: "MCPConnCoreTests",
            dependencies: ["MCP", "MCPConnCore", "MCPConnTestSupport", "mcpconn-reaper"]),
        .testTarget(
            name: "MCPConnCLITests",
            dependencies: ["MCP", "MCPConnCore", "MCPConnTestSupport", "mcpconn", "mcpconn-reaper"]),
    ],
    swiftLanguageModes: [.v6]
)
