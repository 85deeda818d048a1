import Foundation
import MCPConnCore
import Prometheus

/// The gateway's metrics (`serve --http --clients`, issue 26): each `tools/call`'s ``CallRecord`` counted into
/// swift-prometheus's registry (its text format and escaping are the library's), read by `GET /metrics`.
///
/// - `mcpconn_calls_total{connector,tool,outcome}`: calls by outcome (`CallRecord.Outcome`: `ok`, `tool_error`,
///   `refused`, …); errors are the calls whose outcome is not `ok`.
/// - `mcpconn_call_duration_seconds{connector,tool}`: a histogram of the calls' latency, 1 ms to 30 s.
/// - `mcpconn_sessions`: the handshake-era sessions open (2026-07-28 clients have none).
/// - `mcpconn_upstream_up{connector}`: 1 when the connector answered the last call that reached it (a tool's
///   `isError` included), 0 when it could not (unreachable, timed out, broken exchange); absent until a call.
///
/// Label values come from servers and clients (a client may call a tool no connector has, by any name): each
/// connector keeps at most `maxTools` tool names, later ones are counted as `other`, and a name's controls
/// other than newline are escaped as on a terminal before the library escapes `\`, `"` and newline.
final class GatewayMetrics: Sendable {
    /// Tool names labelled per connector (the connector `""` gathers the calls of tools no connector has).
    static let maxTools = 100
    static let otherTool = "other"
    /// Characters of a tool name kept in its label (the MCP spec's limit on a tool name).
    static let maxLabel = 128
    /// Latency buckets: 1 ms to 30 s (a local tool answers in a millisecond or two, a remote one in tens to
    /// hundreds, a slow one in seconds).
    static let buckets: [Duration] = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000].map {
        .microseconds(Int64($0 * 1000))
    }

    private struct Key: Hashable {
        var connector: String
        var tool: String
    }

    private struct Series {
        var calls: [CallRecord.Outcome: Counter] = [:]
        let latency: DurationHistogram
    }

    private struct State {
        var series: [Key: Series] = [:]
        /// The tool names labelled so far, by connector.
        var tools: [String: Set<String>] = [:]
        var upstreams: [String: Gauge] = [:]
    }

    let registry = PrometheusCollectorRegistry()
    private let state = Locked(State())
    private let sessions: Gauge

    private static var calls: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "mcpconn", metricName: "calls", unitName: "total",
            helpText: "tools/call requests through the gateway, by connector, tool and outcome.")
    }
    private static var latency: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "mcpconn", metricName: "call_duration", unitName: "seconds",
            helpText: "Latency of tools/call requests through the gateway, by connector and tool.")
    }
    private static var upstream: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "mcpconn", metricName: "upstream", unitName: "up",
            helpText: "1 when the connector answered the last call that reached it, 0 when it could not.")
    }

    init() {
        sessions = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "mcpconn", metricName: "sessions", unitName: "",
                helpText: "Handshake-era sessions open (2026-07-28 clients have none)."))
    }

    /// The ``CallRecorder``: counts under one lock held for a dictionary look-up (a new series is made once).
    var recorder: CallRecorder { { [self] in record($0) } }

    func record(_ call: CallRecord) {
        let (series, upstream) = state.withLock { s in
            let key = Self.key(call, &s.tools)
            let series = s.series[key] ?? makeSeries(key)
            var counted = series
            if counted.calls[call.outcome] == nil {
                counted.calls[call.outcome] = registry.makeCounter(
                    descriptor: Self.calls,
                    labels: [("connector", key.connector), ("tool", key.tool), ("outcome", call.outcome.rawValue)])
            }
            s.series[key] = counted
            let reached = call.connector.isEmpty || call.outcome == .refused || call.outcome == .secretRefused
            let upstream = reached ? nil : s.upstreams[call.connector] ?? makeUpstream(call.connector, &s.upstreams)
            return (counted, upstream)
        }
        series.calls[call.outcome]?.increment()
        series.latency.record(.milliseconds(call.milliseconds))
        upstream?.set(Int64(call.upstreamFailed ? 0 : 1))
    }

    /// The text for `GET /metrics`, with the sessions open now.
    func exposition(sessions open: Int) -> [UInt8] {
        sessions.set(Int64(open))
        return registry.emitToBuffer()
    }

    /// The call's labels: its tool counted as `other` past the connector's first `maxTools` names.
    private static func key(_ call: CallRecord, _ tools: inout [String: Set<String>]) -> Key {
        let tool = TerminalText.escape(String(call.tool.prefix(maxLabel)), .block)
        var known = tools[call.connector] ?? []
        if known.contains(tool) { return Key(connector: call.connector, tool: tool) }
        guard known.count < maxTools else { return Key(connector: call.connector, tool: otherTool) }
        known.insert(tool)
        tools[call.connector] = known
        return Key(connector: call.connector, tool: tool)
    }

    private func makeSeries(_ key: Key) -> Series {
        Series(
            latency: registry.makeDurationHistogram(
                descriptor: Self.latency, labels: [("connector", key.connector), ("tool", key.tool)],
                buckets: Self.buckets))
    }

    private func makeUpstream(_ connector: String, _ upstreams: inout [String: Gauge]) -> Gauge {
        let gauge = registry.makeGauge(descriptor: Self.upstream, labels: [("connector", connector)])
        upstreams[connector] = gauge
        return gauge
    }
}

/// `GET /healthz`'s answer: ok while the store was read within the last `window` (checked every second, off
/// the requests: a flood of unauthenticated probes never reaches the store, and a store that hangs turns the
/// answer to not ok within the window). The HTTP server being up is the answer itself.
final class StoreHealth: Sendable {
    static let window = Duration.seconds(5)
    private let storage: ConnectorStorage
    private let lastRead = Locked(ContinuousClock.now)

    init(storage: ConnectorStorage) { self.storage = storage }

    var healthy: Bool { ContinuousClock.now - lastRead.withLock { $0 } < Self.window }

    /// Reads the store's change token every `interval` until cancelled.
    func watch(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            // Off the event loops: a hung database makes this read wait, and /healthz then says `not ok`.
            let read = await Blocking.run { [storage] in (try? storage.storeVersion()) != nil }
            if read { lastRead.withLock { $0 = .now } }
            try? await Task.sleep(for: interval)
        }
    }
}
