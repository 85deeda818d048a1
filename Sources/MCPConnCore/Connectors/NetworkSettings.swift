/// How network verbs talk to servers.
public struct NetworkSettings: Sendable {
    /// Seconds allowed for one connector's whole operation.
    public var timeout: Double
    /// Cap on any single answer, in bytes.
    public var maxBytes: Int
    /// Receives the `--verbose` protocol trace (already redacted), if set.
    public var trace: (@Sendable (String) -> Void)?
    /// How many connectors to work on at once.
    public var concurrency: Int
    /// Told (done, total, failed) each time a connector of a fleet verb finishes.
    public var progress: (@Sendable (Int, Int, Int) -> Void)?
    /// Work only on connectors this runner claims (`--claim`), leaving the rest to other runners.
    public var claim: ClaimPolicy?
    /// How the client answers what a server asks of it (roots, elicitation, sampling) during `call`, `prompt`,
    /// `read`; by default it answers nothing and declares no capability.
    public var answers = ClientAnswers()
    /// Streams that outlive requests (the GET stream, the legacy stream, a 2026-07-28 listen) stay open past
    /// `timeout`, which then bounds only connecting and each request: `watch`.
    public var streamsOutliveTimeout = false
    /// What `call`, `prompt` and `read` show of the request's progress and log messages (redacted first).
    public var notifications: RequestNotifications?

    public init(
        timeout: Double = 30, maxBytes: Int = 32 * 1024 * 1024, trace: (@Sendable (String) -> Void)? = nil,
        concurrency: Int = 8
    ) {
        self.timeout = timeout
        self.maxBytes = maxBytes
        self.trace = trace
        self.concurrency = concurrency
    }
}
