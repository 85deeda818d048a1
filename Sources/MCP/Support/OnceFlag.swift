/// A flag that lets exactly one of several racers act.
final class OnceFlag: Sendable {
    private let taken = Locked(false)
    var isTaken: Bool { taken.withLock { $0 } }
    func claim() -> Bool {
        taken.withLock { taken in
            if taken { return false }
            taken = true
            return true
        }
    }
}
