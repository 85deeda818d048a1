import Foundation

/// Opens a URL in the user's browser when one can be found; never waits for it. On Linux with xdg-open, and
/// only in a graphical session (a server over ssh has no browser to open); on macOS with open(1).
enum Browser {
    static func open(_ url: String) {
        let env = ProcessInfo.processInfo.environment
        #if os(macOS)
            let opener = "/usr/bin/open"
        #else
            guard env["DISPLAY"] != nil || env["WAYLAND_DISPLAY"] != nil || env["BROWSER"] != nil else { return }
            let paths = (env["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            guard
                let opener = paths.map({ "\($0)/xdg-open" }).first(where: {
                    FileManager.default.isExecutableFile(atPath: $0)
                })
            else { return }
        #endif
        let p = Process()
        p.executableURL = URL(fileURLWithPath: opener)
        p.arguments = [url]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try? p.run()
    }
}
