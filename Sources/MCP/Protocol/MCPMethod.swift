/// A request method of MCP as a type: its name, and its params and result as small values over the JSON they are
/// (the shape of swift-sdk's `Method`). They are backed by `JSONObject`, not Codable: key order and numbers as
/// written survive a round trip, fields mcpconn does not know pass through untouched, and nothing is decoded
/// that no one reads. One method a type, so a handler table can be keyed by `name`.
package protocol MCPMethod {
    associatedtype Params: MCPObject
    associatedtype Result: MCPObject
    static var name: String { get }
    /// Whether the method's 2026-07-28 results carry caching terms (`cacheScope`, `ttlMs`): lists and discovery.
    static var carriesCachingTerms: Bool { get }
}

extension MCPMethod {
    package static var carriesCachingTerms: Bool { false }
}

/// A method's params or result: a JSON object with typed accessors for the fields mcpconn reads or writes.
package protocol MCPObject: Sendable, Equatable {
    var json: JSONObject { get set }
    init(json: JSONObject)
}

extension MCPObject {
    /// A message's params (or result) as they came: absent, or anything but an object, reads as an empty object.
    package init(_ value: JSONValue?) { self.init(json: value?.objectValue ?? JSONObject()) }

    /// A result as it came; nil when it is not an object (it is then passed on as it is, untyped).
    package init?(object value: JSONValue) {
        guard let object = value.objectValue else { return nil }
        self.init(json: object)
    }

    package var value: JSONValue { .object(json) }

    /// `_meta`: the 2026-07-28 envelope of a request, a result's extra information.
    package var meta: JSONObject? {
        get { json["_meta"]?.objectValue }
        set { json["_meta"] = newValue.map(JSONValue.object) }
    }

    /// The protocol version a 2026-07-28 request carries in its envelope.
    package var envelopeVersion: String? { meta?[MCPVocabulary.Meta.protocolVersion]?.stringValue }

    /// Typed reads of a field.
    package func string(_ key: String) -> String? { json[key]?.stringValue }
    package func object(_ key: String) -> JSONObject? { json[key]?.objectValue }
    package func array(_ key: String) -> [JSONValue] { json[key]?.arrayValue ?? [] }

    /// A field set, or removed with nil (a new key goes last; a known one keeps its place).
    package mutating func set(_ key: String, _ value: JSONValue?) { json[key] = value }
}

/// Params or a result with nothing in it mcpconn reads (`ping`'s, `logging/setLevel`'s result).
package struct EmptyObject: MCPObject {
    package var json: JSONObject
    package init(json: JSONObject) { self.json = json }
    package init() { json = JSONObject() }
}

// MARK: Paged lists

/// A `…/list` method: a page of a catalog's items under `itemKey`, and a cursor to the next page. One generic
/// shape for tools, prompts, resources and resource templates.
package protocol PagedList: MCPMethod where Params == PageRequest, Result == Page<Self> {
    static var itemKey: String { get }
    /// The server capability that announces the list.
    static var capability: String { get }
}

extension PagedList {
    package static var carriesCachingTerms: Bool { true }
}

package struct PageRequest: MCPObject {
    package var json: JSONObject
    package init(json: JSONObject) { self.json = json }
    package init(cursor: String? = nil) {
        json = JSONObject()
        if let cursor { json["cursor"] = .string(cursor) }
    }
    package var cursor: String? { string("cursor") }
}

package struct Page<List: PagedList>: MCPObject {
    package var json: JSONObject
    package init(json: JSONObject) { self.json = json }
    package init(items: [JSONValue], nextCursor: String? = nil) {
        json = [List.itemKey: .array(items)]
        if let nextCursor { json["nextCursor"] = .string(nextCursor) }
    }
    package var items: [JSONValue] { array(List.itemKey) }
    /// Nil on the last page (an empty cursor too: some servers send one).
    package var nextCursor: String? { string("nextCursor").flatMap { $0.isEmpty ? nil : $0 } }
}

package enum ListTools: PagedList {
    package static let name = "tools/list"
    package static let itemKey = "tools"
    package static let capability = "tools"
}

package enum ListPrompts: PagedList {
    package static let name = "prompts/list"
    package static let itemKey = "prompts"
    package static let capability = "prompts"
}

package enum ListResources: PagedList {
    package static let name = "resources/list"
    package static let itemKey = "resources"
    package static let capability = "resources"
}

package enum ListResourceTemplates: PagedList {
    package static let name = "resources/templates/list"
    package static let itemKey = "resourceTemplates"
    package static let capability = "resources"
}

extension Page where List == ListTools {
    package var tools: [JSONValue] { items }
}

extension Page where List == ListPrompts {
    package var prompts: [JSONValue] { items }
}

extension Page where List == ListResources {
    package var resources: [JSONValue] { items }
}

extension Page where List == ListResourceTemplates {
    package var resourceTemplates: [JSONValue] { items }
}
