/// The form an `elicitation/create` asks the user to fill: its `requestedSchema`, a flat object of primitive fields
/// (MCP restricts it to strings, numbers, booleans, single and multiple choices), read into fields that check an
/// answer and convert it to the JSON the server expects. Whatever the server sent is untrusted: an unknown shape is
/// a free-text field, nothing here traps, and the sizes are bounded.
public struct ElicitationForm: Sendable, Equatable {
    public struct Field: Sendable, Equatable {
        public var name: String
        public var title: String?
        public var description: String?
        public var kind: Kind
        public var required: Bool
        public var defaultValue: JSONValue?
    }

    public enum Kind: Sendable, Equatable {
        case text(minLength: Int?, maxLength: Int?, format: String?)
        case number(integer: Bool, minimum: Double?, maximum: Double?)
        case boolean
        /// One of `values` (`enum`, or `oneOf`/`anyOf` with `const` and `title`).
        case choice(values: [String], titles: [String])
        /// Several of `values` (an array whose items are a choice).
        case choices(values: [String], titles: [String], minItems: Int?, maxItems: Int?)
    }

    public var fields: [Field]

    /// At most this many fields are read from a schema: a form is for a person.
    static let maxFields = 64

    public init(schema: JSONObject?) {
        let properties = schema?["properties"]?.objectValue ?? JSONObject()
        let required = Set(schema?["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        fields = properties.pairs.prefix(Self.maxFields).map { name, spec in
            Field(
                name: name, title: spec["title"]?.stringValue, description: spec["description"]?.stringValue,
                kind: Self.kind(spec), required: required.contains(name), defaultValue: spec["default"])
        }
    }

    static func kind(_ spec: JSONValue) -> Kind {
        switch spec["type"]?.stringValue {
        case "boolean": return .boolean
        case "integer", "number":
            return .number(
                integer: spec["type"]?.stringValue == "integer", minimum: spec["minimum"]?.doubleValue,
                maximum: spec["maximum"]?.doubleValue)
        case "array":
            let (values, titles) = options(spec["items"] ?? .null)
            return .choices(
                values: values, titles: titles, minItems: spec["minItems"]?.intValue,
                maxItems: spec["maxItems"]?.intValue)
        default:
            let (values, titles) = options(spec)
            if !values.isEmpty { return .choice(values: values, titles: titles) }
            return .text(
                minLength: spec["minLength"]?.intValue, maxLength: spec["maxLength"]?.intValue,
                format: spec["format"]?.stringValue)
        }
    }

    /// The values of a choice: `enum` (titles from the legacy `enumNames`), or `oneOf`/`anyOf` of `const`+`title`.
    static func options(_ spec: JSONValue) -> (values: [String], titles: [String]) {
        if let values = spec["enum"]?.arrayValue?.compactMap(\.stringValue) {
            let names = spec["enumNames"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return (values, names.count == values.count ? names : values)
        }
        let options = (spec["oneOf"] ?? spec["anyOf"])?.arrayValue ?? []
        let pairs = options.compactMap { o in o["const"]?.stringValue.map { ($0, o["title"]?.stringValue ?? $0) } }
        return (pairs.map(\.0), pairs.map(\.1))
    }

    /// The content of an `accept` from answers by field name (a value as typed, or JSON from `--answers FILE`).
    /// Fields without an answer take their default, or are left out when optional; answers for names the form
    /// does not have are ignored (one set of answers serves every form of a run). The first problem is thrown.
    public func content(from answers: JSONObject) throws(ElicitationProblem) -> JSONObject {
        var content = JSONObject()
        for field in fields {
            if let answer = answers[field.name] {
                content[field.name] = try field.value(answer).get()
            } else if let d = field.defaultValue {
                content[field.name] = d
            } else if field.required {
                throw ElicitationProblem(
                    "no answer for its required field '\(field.name)' (give --answer \(field.name)=…)")
            }
        }
        return content
    }
}

/// Why answers do not fit a form, in words for the user.
public struct ElicitationProblem: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

extension ElicitationForm.Field {
    /// Checks and converts one answer: text as typed (`yes`, `3`, `red`, `red,green`) or a JSON value of the type.
    public func value(_ answer: JSONValue) -> Result<JSONValue, ElicitationProblem> {
        let fail = { (why: String) in Result<JSONValue, ElicitationProblem>.failure(.init("'\(name)' \(why)")) }
        switch kind {
        case .boolean:
            if let b = answer.boolValue { return .success(.bool(b)) }
            switch answer.stringValue?.lowercased() {
            case "true", "yes", "y", "1", "on": return .success(true)
            case "false", "no", "n", "0", "off": return .success(false)
            default: return fail("must be yes or no")
            }
        case .number(let integer, let minimum, let maximum):
            guard let n = answer.doubleValue ?? answer.stringValue.flatMap({ Double($0.trimmed) }), n.isFinite else {
                return fail(integer ? "must be an integer" : "must be a number")
            }
            if integer && n.rounded() != n { return fail("must be an integer") }
            if let minimum, n < minimum { return fail("must be at least \(Self.number(minimum))") }
            if let maximum, n > maximum { return fail("must be at most \(Self.number(maximum))") }
            return .success(.number(Self.number(n)))
        case .text(let minLength, let maxLength, _):
            guard let s = answer.stringValue else { return fail("must be text") }
            if let minLength, s.count < minLength { return fail("must have at least \(minLength) characters") }
            if let maxLength, s.count > maxLength { return fail("must have at most \(maxLength) characters") }
            return .success(.string(s))
        case .choice(let values, let titles):
            guard let s = answer.stringValue, let v = Self.pick(s, values, titles) else {
                return fail("must be one of: \(values.joined(separator: ", "))")
            }
            return .success(.string(v))
        case .choices(let values, let titles, let minItems, let maxItems):
            let items =
                answer.arrayValue?.compactMap(\.stringValue)
                ?? (answer.stringValue ?? "").split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty }
            var picked: [String] = []
            for item in items {
                guard let v = Self.pick(item, values, titles) else {
                    return fail("takes only: \(values.joined(separator: ", "))")
                }
                if !picked.contains(v) { picked.append(v) }
            }
            if let minItems, picked.count < minItems { return fail("needs at least \(minItems) choices") }
            if let maxItems, picked.count > maxItems { return fail("takes at most \(maxItems) choices") }
            return .success(.array(picked.map(JSONValue.string)))
        }
    }

    /// A value chosen by itself or by its title.
    static func pick(_ s: String, _ values: [String], _ titles: [String]) -> String? {
        let s = s.trimmed
        if values.contains(s) { return s }
        return zip(titles, values).first { $0.0 == s }?.1
    }

    static func number(_ d: Double) -> String { d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d) }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
