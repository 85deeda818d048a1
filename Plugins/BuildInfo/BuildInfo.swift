import Foundation
import PackagePlugin

/// Writes `BuildInfo.swift` (the commit the program is built from, for `--version`) before every build of the
/// target that uses it. A prebuild command, so it runs each time; the file is rewritten only when the commit
/// changes, so an unchanged tree compiles nothing again. Outside a git checkout the commit is "unknown".
@main
struct BuildInfo: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let generated = context.pluginWorkDirectoryURL.appending(path: "Generated")
        let script = """
            root="$1"; out="$2"; mkdir -p "$(dirname "$out")"
            commit=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
            if [ "$commit" != unknown ] && [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
              commit="$commit-dirty"
            fi
            text="enum BuildInfo { static let commit = \\"$commit\\" }"
            [ "$(cat "$out" 2>/dev/null)" = "$text" ] || printf '%s\\n' "$text" > "$out"
            """
        return [
            .prebuildCommand(
                displayName: "Stamping the commit into \(target.name)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [
                    "-c", script, "sh", context.package.directoryURL.path,
                    generated.appending(path: "BuildInfo.swift").path,
                ],
                outputFilesDirectory: generated)
        ]
    }
}
