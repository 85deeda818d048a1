import Testing

@testable import MCP
@testable import MCPConnCore

/// The form of an `elicitation/create`, read from its requestedSchema (MCP's flat primitive fields), and how an
/// answer is checked and converted. The schemas are written as the spec and the SDKs send them.
@Suite("Elicitation forms")
struct ElicitationFormTests {
    static let schema = try! JSONValue.parse(
        #"""
        {"type": "object", "required": ["confirm", "tags"],
         "properties": {
           "confirm": {"type": "boolean"},
           "reason": {"type": "string", "maxLength": 5, "minLength": 2},
           "count": {"type": "integer", "minimum": 1, "maximum": 5},
           "ratio": {"type": "number", "default": 0.5},
           "color": {"type": "string", "enum": ["r", "g"], "enumNames": ["Red", "Green"]},
           "size": {"type": "string", "oneOf": [{"const": "s", "title": "Small"}, {"const": "l", "title": "Large"}]},
           "tags": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"anyOf": [{"const": "a", "title": "Alpha"}, {"const": "b", "title": "Beta"}, {"const": "c", "title": "Gamma"}]}}
         }}
        """#
    ).objectValue

    @Test func fieldsAreReadInOrderWithTheirKinds() {
        let form = ElicitationForm(schema: Self.schema)
        #expect(form.fields.map(\.name) == ["confirm", "reason", "count", "ratio", "color", "size", "tags"])
        #expect(form.fields[0].required && !form.fields[1].required && form.fields[6].required)
        #expect(form.fields[4].kind == .choice(values: ["r", "g"], titles: ["Red", "Green"]))
        #expect(form.fields[5].kind == .choice(values: ["s", "l"], titles: ["Small", "Large"]))
        #expect(
            form.fields[6].kind
                == .choices(values: ["a", "b", "c"], titles: ["Alpha", "Beta", "Gamma"], minItems: 1, maxItems: 2))
    }

    @Test func answersAreConvertedAndDefaultsFilledIn() throws {
        let form = ElicitationForm(schema: Self.schema)
        let content = try form.content(
            from: ["confirm": "yes", "count": "3", "color": "Green", "size": "l", "tags": "Alpha, c", "other": "x"])
        #expect(
            JSONValue.object(content)
                == [
                    "confirm": true, "count": 3, "ratio": .number("0.5"), "color": "g", "size": "l",
                    "tags": ["a", "c"],
                ])
        // JSON values from a file are taken as they are when they fit.
        let typed = try form.content(from: ["confirm": false, "count": 2, "tags": ["b"]])
        #expect(typed["confirm"] == false && typed["count"] == 2 && typed["tags"] == ["b"])
    }

    static let misfits: [(JSONObject, String)] = [
        (["tags": "a"], "no answer for its required field 'confirm' (give --answer confirm=…)"),
        (["confirm": "perhaps", "tags": "a"], "'confirm' must be yes or no"),
        (["confirm": "y", "tags": "a", "count": "2.5"], "'count' must be an integer"),
        (["confirm": "y", "tags": "a", "count": "0"], "'count' must be at least 1"),
        (["confirm": "y", "tags": "a", "count": "nan"], "'count' must be an integer"),
        (["confirm": "y", "tags": "a", "reason": "toolong"], "'reason' must have at most 5 characters"),
        (["confirm": "y", "tags": "a", "reason": "x"], "'reason' must have at least 2 characters"),
        (["confirm": "y", "tags": "a", "color": "blue"], "'color' must be one of: r, g"),
        (["confirm": "y", "tags": "a,b,c"], "'tags' takes at most 2 choices"),
        (["confirm": "y", "tags": ""], "'tags' needs at least 1 choices"),
        (["confirm": "y", "tags": "a,z"], "'tags' takes only: a, b, c"),
    ]

    @Test(arguments: misfits)
    func answersThatDoNotFitSayWhy(_ answers: JSONObject, _ why: String) {
        #expect(throws: ElicitationProblem(why)) { try ElicitationForm(schema: Self.schema).content(from: answers) }
    }

    @Test func anUnknownOrHostileSchemaIsAFormOfText() {
        let odd = try! JSONValue.parse(#"{"properties": {"a": {"type": "object"}, "b": 7, "c": {"enum": [1, 2]}}}"#)
        let form = ElicitationForm(schema: odd.objectValue)
        #expect(
            form.fields.map(\.kind) == Array(repeating: .text(minLength: nil, maxLength: nil, format: nil), count: 3))
        let many = JSONObject((0..<1000).map { ("f\($0)", ["type": "string"] as JSONValue) })
        #expect(ElicitationForm(schema: ["properties": .object(many)]).fields.count == ElicitationForm.maxFields)
        #expect(ElicitationForm(schema: nil).fields.isEmpty)
    }

    /// The terminal form shows nothing of the server's raw: its message, titles, descriptions, defaults, choices
    /// and a string's `format` all come out escaped.
    @Test func theTerminalFormEscapesEverythingTheServerWrote() {
        struct Script: FormIO {
            var lines: [String]
            var shown = ""
            mutating func write(_ text: String) { shown += text }
            mutating func readLine() -> String? { lines.isEmpty ? nil : lines.removeFirst() }
        }
        let hostile = "\u{1B}]0;owned\u{07}\u{1B}[2J"
        let schema: JSONObject = [
            "properties": [
                "a": ["type": "string", "format": .string(hostile), "title": .string(hostile)],
                "b": ["type": "string", "enum": [.string(hostile)], "description": .string(hostile)],
            ]
        ]
        var io = Script(lines: ["x", hostile, "y"])
        let params = Elicit.Params(json: ["message": .string(hostile), "requestedSchema": .object(schema)])
        let answer = TerminalForm.ask(params, connector: "c", io: &io)
        #expect(!io.shown.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" }, "\(io.shown)")
        #expect(io.shown.contains("\\e]0;owned\\x07"), "\(io.shown)")
        #expect(answer.action == "accept" && answer.json["content"]?["b"] == .string(hostile))
    }
}
