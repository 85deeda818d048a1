/// The requests a server may make of its client mid-stream, known today, and the answer mcpconn gives each when
/// it runs unattended (no one to ask): it shares no roots, declines every elicitation, offers no sampling.
/// A handler table for issue 24 can be keyed by their names.
package protocol ServerRequestMethod: MCPMethod {
    /// The unattended answer; nil when mcpconn does not offer the method (answered "method not found").
    static var unattendedResult: Result? { get }
    /// The client capability (MCP's `ClientCapabilities` key) a client declares when it answers the method
    /// itself; nil for one every client answers (ping).
    static var capability: String? { get }
}

extension ServerRequestMethod {
    package static var capability: String? { nil }
}

extension Ping: ServerRequestMethod {
    package static var unattendedResult: EmptyObject? { EmptyObject() }
}

package enum ListRoots: ServerRequestMethod {
    package static let name = "roots/list"
    package static let capability: String? = "roots"
    package typealias Params = EmptyObject

    package struct Result: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        package init(roots: [JSONValue]) { json = ["roots": .array(roots)] }
        package var roots: [JSONValue] { array("roots") }
    }

    package static var unattendedResult: Result? { Result(roots: []) }
}

package enum Elicit: ServerRequestMethod {
    package static let name = "elicitation/create"
    package static let capability: String? = "elicitation"

    package struct Params: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        package var message: String? { string("message") }
        package var requestedSchema: JSONObject? { object("requestedSchema") }
    }

    package struct Result: MCPObject {
        package var json: JSONObject
        package init(json: JSONObject) { self.json = json }
        package init(action: String) { json = ["action": .string(action)] }
        /// `accept`, `decline` or `cancel`.
        package var action: String? { string("action") }
        package static let decline = Result(action: "decline")
    }

    package static var unattendedResult: Result? { .decline }
}

package enum CreateMessage: ServerRequestMethod {
    package static let name = "sampling/createMessage"
    package static let capability: String? = "sampling"
    package typealias Params = EmptyObject
    package typealias Result = EmptyObject

    package static var unattendedResult: EmptyObject? { nil }
}

package enum ServerRequests {
    /// The unattended result for a server request, by method name; nil: method not found.
    package static func unattendedResult(_ method: String) -> JSONValue? {
        switch method {
        case Ping.name: return Ping.unattendedResult?.value
        case ListRoots.name: return ListRoots.unattendedResult?.value
        case Elicit.name: return Elicit.unattendedResult?.value
        case CreateMessage.name: return CreateMessage.unattendedResult?.value
        default: return nil
        }
    }
}
