/// The client-to-server methods mcpconn uses or `serve` answers: the two ways to start (the handshake era's
/// `initialize`, 2026-07-28's `server/discover`), `ping`, `logging/setLevel`, the lists (see `PagedList`), and
/// the requests the gateway passes through to a connector.

package enum Initialize: MCPMethod {
    package static let name = "initialize"

    package struct Params: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        package init(protocolVersion: String, capabilities: JSONObject, clientInfo: JSONValue) {
            json = [
                "protocolVersion": .string(protocolVersion), "capabilities": .object(capabilities),
                "clientInfo": clientInfo,
            ]
        }
        package var protocolVersion: String? { string("protocolVersion") }
        package var capabilities: JSONObject? { object("capabilities") }
        package var clientInfo: JSONValue? { json["clientInfo"] }
    }

    package struct Result: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        package init(protocolVersion: String, capabilities: JSONObject, serverInfo: JSONValue) {
            json = [
                "protocolVersion": .string(protocolVersion), "capabilities": .object(capabilities),
                "serverInfo": serverInfo,
            ]
        }
        package var protocolVersion: String? { string("protocolVersion") }
        package var capabilities: JSONObject? { object("capabilities") }
        package var serverInfo: JSONValue? { json["serverInfo"] }
        package var instructions: String? { string("instructions") }
    }
}

/// 2026-07-28's start: the client names the version it speaks in the envelope; the server its versions.
package enum Discover: MCPMethod {
    package static let name = "server/discover"
    package static var carriesCachingTerms: Bool { true }

    package struct Params: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        package init(protocolVersion: String) {
            json = ["_meta": .object([MCPVocabulary.Meta.protocolVersion: .string(protocolVersion)])]
        }
        /// The version asked for (in the envelope).
        package var protocolVersion: String? { envelopeVersion }
    }

    package struct Result: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        /// `serverInfo` goes in `_meta`, where 2026-07-28 keeps it; nil leaves it to the era's shaping.
        package init(supportedVersions: [String], capabilities: JSONObject, serverInfo: JSONValue? = nil) {
            json = [
                "supportedVersions": .array(supportedVersions.map(JSONValue.string)),
                "capabilities": .object(capabilities),
            ]
            if let serverInfo { meta = [MCPVocabulary.Meta.serverInfo: serverInfo] }
        }
        package var supportedVersions: [String] { array("supportedVersions").compactMap(\.stringValue) }
        package var capabilities: JSONObject? { object("capabilities") }
        package var serverInfo: JSONValue? { meta?[MCPVocabulary.Meta.serverInfo] }
    }
}

package enum Ping: MCPMethod {
    package static let name = "ping"
    package typealias Params = EmptyObject
    package typealias Result = EmptyObject
}

package enum SetLogLevel: MCPMethod {
    package static let name = "logging/setLevel"
    package typealias Result = EmptyObject

    package struct Params: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        package init(level: String) { json = ["level": .string(level)] }
        package var level: String? { string("level") }
    }
}

package enum CallTool: MCPMethod {
    package static let name = "tools/call"

    package struct Params: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        package init(name: String, arguments: JSONObject) {
            json = ["name": .string(name), "arguments": .object(arguments)]
        }
        package var name: String? { string("name") }
        package var arguments: JSONObject? { object("arguments") }
    }

    package struct Result: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        package init(content: [JSONValue], isError: Bool? = nil) {
            json = ["content": .array(content)]
            if let isError { json["isError"] = .bool(isError) }
        }
        /// A failure the model can read: one text item, and `isError`.
        package static func failure(_ text: String) -> Result {
            Result(content: [.object(["type": "text", "text": .string(text)])], isError: true)
        }
        package var content: [JSONValue] { array("content") }
        package var isError: Bool { json["isError"]?.boolValue == true }
        package var structuredContent: JSONValue? { json["structuredContent"] }
    }
}

package enum GetPrompt: MCPMethod {
    package static let name = "prompts/get"

    package struct Params: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        package init(name: String, arguments: JSONObject? = nil) {
            json = ["name": .string(name)]
            if let arguments { json["arguments"] = .object(arguments) }
        }
        package var name: String? { string("name") }
        package var arguments: JSONObject? { object("arguments") }
    }

    package struct Result: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        package var description: String? { string("description") }
        package var messages: [JSONValue] { array("messages") }
    }
}

package enum ReadResource: MCPMethod {
    package static let name = "resources/read"

    package struct Params: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        package init(uri: String) { json = ["uri": .string(uri)] }
        package var uri: String? { string("uri") }
    }

    package struct Result: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        package var contents: [JSONValue] { array("contents") }
    }
}

/// Argument completion for a prompt (`ref/prompt`, by name) or a resource template (`ref/resource`, by URI).
package enum Complete: MCPMethod {
    package static let name = "completion/complete"

    /// What the argument belongs to.
    package enum Reference: Sendable {
        case prompt(String)
        case resourceTemplate(String)
    }

    package struct Params: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        /// Completes `argument` from what is typed so far (`value`); `context` holds arguments already chosen.
        package init(_ reference: Reference, argument: String, value: String, context: JSONObject = [:]) {
            let ref: JSONObject
            switch reference {
            case .prompt(let name): ref = ["type": "ref/prompt", "name": .string(name)]
            case .resourceTemplate(let uri): ref = ["type": "ref/resource", "uri": .string(uri)]
            }
            json = ["ref": .object(ref), "argument": ["name": .string(argument), "value": .string(value)]]
            if !context.isEmpty { json["context"] = ["arguments": .object(context)] }
        }
        package var refType: String? { object("ref")?["type"]?.stringValue }
        /// Where the ref names what it completes for: `["ref", "name"]` or `["ref", "uri"]`; nil for another ref.
        package var refPath: [String]? {
            switch refType {
            case "ref/prompt": return ["ref", "name"]
            case "ref/resource": return ["ref", "uri"]
            default: return nil
            }
        }
    }

    package struct Result: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        package var completion: JSONObject? { object("completion") }
        /// The suggestions (strings only; anything else in the list is skipped).
        package var values: [String] { completion?["values"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    }
}

/// Handshake era: updates of one resource (`notifications/resources/updated`) until unsubscribed.
package enum SubscribeResource: MCPMethod {
    package static let name = "resources/subscribe"
    package typealias Params = ResourceURI
    package typealias Result = EmptyObject
}

package enum UnsubscribeResource: MCPMethod {
    package static let name = "resources/unsubscribe"
    package typealias Params = ResourceURI
    package typealias Result = EmptyObject
}

/// The params of the methods about one resource.
package struct ResourceURI: MCPObject {
    package var json: JSONObject
    package init(json: JSONObject) { self.json = json }
    package init(uri: String) { json = ["uri": .string(uri)] }
    package var uri: String? { string("uri") }
}

/// 2026-07-28: one long-lived request that opts in to notifications (resources updated, lists changed), which
/// come on its own stream after `notifications/subscriptions/acknowledged`; it lasts until cancelled.
package enum ListenSubscriptions: MCPMethod {
    package static let name = "subscriptions/listen"
    package typealias Result = EmptyObject
    package static let acknowledged = "notifications/subscriptions/acknowledged"

    package struct Params: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        package init(resources: [String]) {
            json = ["notifications": ["resourceSubscriptions": .array(resources.map(JSONValue.string))]]
        }
    }
}

/// 2025-11-25's tasks (on 2026-07-28 the extension `io.modelcontextprotocol/tasks`): a request sent with
/// `params.task` is answered at once with a `CreateTaskResult` (`task`), and the work goes on; the client asks
/// after it by id.
package enum GetTask: MCPMethod {
    package static let name = "tasks/get"
    package typealias Params = TaskRef
    package typealias Result = TaskState
}

/// The result of the task's request (for a tool call, its CallToolResult); the server answers once the task ended.
package enum GetTaskResult: MCPMethod {
    package static let name = "tasks/result"
    package typealias Params = TaskRef
    package typealias Result = CallTool.Result
}

package enum CancelTask: MCPMethod {
    package static let name = "tasks/cancel"
    package typealias Params = TaskRef
    package typealias Result = TaskState
}

/// The params of the methods about one task.
package struct TaskRef: MCPObject {
    package var json: JSONObject
    package init(json: JSONObject) { self.json = json }
    package init(taskId: String) { json = ["taskId": .string(taskId)] }
    package var taskId: String? { string("taskId") }
}

/// A task as the server describes it (tasks/get, tasks/cancel, a CreateTaskResult's `task`).
package struct TaskState: MCPObject {
    package var json: JSONObject
    package init(json: JSONObject) { self.json = json }
    package static let terminal: Set<String> = ["completed", "failed", "cancelled"]
    package var taskId: String? { string("taskId") }
    /// `working`, `input_required`, `completed`, `failed` or `cancelled`.
    package var status: String? { string("status") }
    package var statusMessage: String? { string("statusMessage") }
    package var isTerminal: Bool { status.map(Self.terminal.contains) ?? false }
    /// How long the server asks the client to wait between polls, in milliseconds.
    package var pollInterval: Double? {
        guard case .number(let n)? = json["pollInterval"] else { return nil }
        return Double(n)
    }
}

extension CallTool.Params {
    /// The call as a task (`params.task`), kept by the server `ttl` milliseconds after it is created (nil: its
    /// default).
    package mutating func asTask(ttl: Int?) {
        json["task"] = .object(ttl.map { ["ttl": .number(String($0))] } ?? [:])
    }
}
