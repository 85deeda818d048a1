import Foundation

/// The audit trail of `serve` (issue 26): its ``recorder`` queues each call's ``CallRecord`` under one lock and
/// returns; a task of its own turns them into rows (the arguments' digest, the answer's size, the arguments
/// sealed with `--audit-args`) and writes them in batches, one transaction each, every ``interval`` or as soon as
/// ``batchSize`` are queued, the blocking store write kept off Swift's pool (``ConnectorStorage/appendAudit(_:)``).
/// ``finish()`` writes what is left: a serve that ends (stdin's end, SIGINT, SIGTERM) loses nothing.
///
/// Bounded: records wait at most one interval to become rows (``recordCapacity``), and rows the store did not take
/// (down, locked) are kept for the next batch up to ``rowCapacity``. Beyond either, records are dropped and
/// counted, with a warning line at the first and every ``warnEvery``-th.
package final class AuditWriter: Sendable {
    static let batchSize = 256
    static let recordCapacity = 8192
    static let rowCapacity = 65_536
    static let warnEvery = 1000

    private struct Queue {
        var records: [CallRecord] = []
        var dropped = 0
        /// ``finish()`` began: a record that comes later has no batch left to go in.
        var finished = false
    }

    private let queue = Locked(Queue())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let storage: ConnectorStorage
    private let user: Int64
    private let seal: (@Sendable (AuditEntry, String) -> String)?
    private let interval: Duration
    private let warn: @Sendable (String) -> Void
    private let task = Locked<Task<Void, Never>?>(nil)

    /// `sealArguments` (`serve --audit-args`): each row keeps the arguments too, sealed under the store key.
    package init(
        storage: ConnectorStorage, sealArguments: Bool, interval: Duration = .seconds(1),
        warn: @escaping @Sendable (String) -> Void
    ) throws(MCPConnError) {
        self.storage = storage
        user = storage.userID
        seal = sealArguments ? try storage.auditSealer() : nil
        self.interval = interval
        self.warn = warn
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// How often rows are written: `MCPCONN_AUDIT_FLUSH_SECONDS` (0.05 to 3600), else every second.
    package static func interval(_ environment: [String: String]) -> Duration {
        guard let text = environment["MCPCONN_AUDIT_FLUSH_SECONDS"], let seconds = Double(text),
            (0.05...3600).contains(seconds)
        else { return .seconds(1) }
        return .milliseconds(Int(seconds * 1000))
    }

    /// What the gateway hands each call's record to: queues it and returns.
    package var recorder: CallRecorder { { [self] record in self.enqueue(record) } }

    private func enqueue(_ record: CallRecord) {
        let (full, dropped, late) = queue.withLock { q -> (Bool, Int?, Bool) in
            guard !q.finished else { return (false, nil, true) }
            guard q.records.count < Self.recordCapacity else {
                q.dropped += 1
                return (false, q.dropped, false)
            }
            q.records.append(record)
            return (q.records.count == Self.batchSize, nil, false)
        }
        if full { wake.yield() }
        if let dropped { noteDropped(dropped) }
        if late { warn("a call answered after the audit trail's last rows were written is not in it") }
    }

    private func noteDropped(_ total: Int) {
        guard total % Self.warnEvery == 1 || Self.warnEvery == 1 else { return }
        warn("the audit trail is behind (the store does not take its rows): \(total) call record(s) dropped so far")
    }

    /// Starts writing (once).
    package func start() {
        task.withLock { t in
            guard t == nil else { return }
            t = Task { await self.run() }
        }
    }

    /// Writes every record queued so far, then stops; returns once they are in the store (or given up on, with a
    /// warning, when the store fails).
    package func finish() async {
        wake.finish()
        await task.withLock { $0 }?.value
        // What came while the last batch was written goes in one more; anything later is warned about.
        let rest = queue.withLock { q in
            q.finished = true
            defer { q.records = [] }
            return q.records
        }
        guard !rest.isEmpty else { return }
        do throws(MCPConnError) {
            try await storage.appendAudit(rest.map(entry))
        } catch {
            warn("the audit trail lost \(rest.count) call record(s) at the end: \(error.message)")
        }
    }

    private func run() async {
        let wake = self.wake
        let interval = self.interval
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                wake.yield()
            }
        }
        var pending: [AuditEntry] = []
        var failing = false
        for await _ in wakeups { pending = await write(pending, &failing) }
        ticker.cancel()
        pending = await write(pending, &failing)
        if !pending.isEmpty {
            warn("the audit trail lost \(pending.count) call record(s) at the end: the store did not take them")
        }
    }

    /// Turns the queued records into rows after `pending`, and writes them a batch at a time; what the store did
    /// not take is returned, for the next time.
    private func write(_ pending: [AuditEntry], _ failing: inout Bool) async -> [AuditEntry] {
        let records = queue.withLock { q in
            defer { q.records.removeAll(keepingCapacity: true) }
            return q.records
        }
        var rows = pending
        rows.reserveCapacity(pending.count + records.count)
        for r in records { rows.append(entry(r)) }
        if rows.count > Self.rowCapacity {
            let over = rows.count - Self.rowCapacity
            rows.removeFirst(over)
            let total = queue.withLock { q in
                q.dropped += over
                return q.dropped
            }
            warn("the audit trail is behind (the store does not take its rows): \(total) call record(s) dropped so far")
        }
        var done = 0
        while done < rows.count {
            let batch = Array(rows[done..<min(done + Self.batchSize, rows.count)])
            do throws(MCPConnError) {
                try await storage.appendAudit(batch)
            } catch {
                if !failing {
                    warn("the audit trail cannot write to the store (retrying each second): \(error.message)")
                }
                failing = true
                return Array(rows[done...])
            }
            if failing { warn("the audit trail writes to the store again") }
            failing = false
            done += batch.count
        }
        return []
    }

    /// A record as its row: the arguments as a digest (and sealed, with `--audit-args`), the answer as its size.
    func entry(_ r: CallRecord) -> AuditEntry {
        var e = AuditEntry(
            time: r.time, user: user, client: r.client, connector: r.connector, tool: r.tool,
            argumentsDigest: AuditEntry.digest(r.arguments), sealedArguments: nil, outcome: r.outcome.rawValue,
            milliseconds: r.milliseconds, bytes: r.answer.map { $0.compactText().utf8.count } ?? 0)
        if let seal { e.sealedArguments = seal(e, AuditEntry.canonicalText(r.arguments)) }
        return e
    }
}
