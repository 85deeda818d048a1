import Foundation

/// The requests being answered, by id, so a `notifications/cancelled` can reach the right one.
final class InFlight: Sendable {
    private struct State {
        var tasks: [(id: JSONValue, task: Task<Void, Never>, serial: Int)] = []
        var serial = 0
    }

    private let state = Locked(State())

    var count: Int { state.withLock { $0.tasks.count } }
    var oldest: Task<Void, Never>? { state.withLock { $0.tasks.first?.task } }

    func start(_ id: JSONValue, _ work: @escaping @Sendable () async -> Void) {
        // The task is made under the lock (making one neither blocks nor suspends): it removes itself under the
        // same lock, so never before it was added.
        state.withLock { state in
            state.serial += 1
            let mine = state.serial
            let task = Task {
                await work()
                self.finished(mine)
            }
            state.tasks.append((id, task, mine))
        }
    }

    private func finished(_ serial: Int) { state.withLock { $0.tasks.removeAll { $0.serial == serial } } }

    func cancel(_ id: JSONValue) {
        let matching = state.withLock { $0.tasks.filter { $0.id == id }.map(\.task) }
        for t in matching { t.cancel() }
    }

    func cancelAll() {
        let all = state.withLock { $0.tasks.map(\.task) }
        for t in all { t.cancel() }
    }

    /// Runs `work` as a request `id` can cancel (`cancel(id)`), and as the calling task's cancellation cancels.
    func run<T: Sendable>(_ id: JSONValue, _ work: @escaping @Sendable () async -> T) async -> T {
        let task = Task { await work() }
        start(id) {
            await withTaskCancellationHandler {
                _ = await task.value
            } onCancel: {
                task.cancel()
            }
        }
        return await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
    }

    func waitForAll() async {
        while let t = oldest { await t.value }
    }

    /// Waits for every request to finish, at most `grace`; then cancels those left and waits for them to end.
    func finish(within grace: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForAll() }
            group.addTask { try? await Task.sleep(for: grace) }
            await group.next()
            cancelAll()
            group.cancelAll()
        }
    }
}
