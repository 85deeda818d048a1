import Foundation

/// Process-wide network housekeeping for the command line.
public enum Network {
    /// Starts loading libcurl on a thread of its own, for a command that will talk to a server: its dynamic
    /// linking and TLS set-up (the largest part of such a command's start-up) then overlap argument parsing and
    /// the store's work on the other core instead of following them. Await the result's ``CurlPrewarm/loaded()``
    /// before the process exits, even after an early error: exiting while that thread is inside dlopen or
    /// curl_global_init would run the libraries' destructors under it.
    public static func prewarm() async -> CurlPrewarm {
        // dlopen holds the dynamic loader's lock throughout, and creating a thread needs that lock: let Swift's
        // executor start its threads first, or the command's first hop to it waits for the whole load.
        await Task.detached {}.value
        let load = CurlPrewarm()
        Thread {
            _ = CurlSymbols.shared
            load.finish()
        }.start()
        return load
    }

    /// Lets background requests (session DELETEs) finish, for at most `seconds`.
    /// Commands that never talked to a server return at once, without loading libcurl.
    public static func drain(seconds: Double = 2) async {
        guard CurlLoop.isCreated else { return }
        await CurlLoop.shared.drain(until: .now + .milliseconds(Int(seconds * 1000)))
    }
}

/// A libcurl load running on its own thread (see ``Network/prewarm()``).
public final class CurlPrewarm: Sendable {
    private let done = OneTimeEvent()

    fileprivate func finish() { done.happen() }

    /// Returns once the load has ended, whether or not it succeeded.
    public func loaded() async { await done.wait() }
}
