/// A flag that lets exactly one of several racers act.
package final class OnceFlag: Sendable {
    package init() {}
    private let taken = Locked(false)
    package var isTaken: Bool { taken.withLock { $0 } }
    package func claim() -> Bool {
        taken.withLock { taken in
            if taken { return false }
            taken = true
            return true
        }
    }
}
