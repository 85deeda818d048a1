/// How `call`, `prompt` and `read` answer what a server asks of the client: its roots (`--root`), an
/// elicitation (`--answer`/`--answers`, else a form on the terminal when there is one, else declined), a sample
/// (`--sampling-command`). The client declares exactly the capabilities it can answer, in both eras: handshake-era
/// servers ask mid-request, 2026-07-28 servers with `input_required` (see `MCPClient.answeringInput`).
public struct ClientAnswers: Sendable {
    /// The directories shared (`roots/list`); none: an empty list, and no roots capability declared.
    public var roots: [ClientRoot] = []
    /// Answers to elicitation forms, by field name; nil when none were given.
    public var fields: JSONObject?
    /// Ask elicitations on the terminal (stdin and stderr are terminals and no answers were given).
    public var terminal = false
    /// The program that answers sampling requests.
    public var sampling: SamplingCommand?
    /// The first answer that failed during the operation, shared by every copy of these settings: the verb ends
    /// with it (a server's reaction to a refused answer is a consequence, not the cause).
    let problems = AnswerProblems()
    /// `serve`'s sessions: what they declare and answer between the requests they relay (``Relay/standing``).
    var relaying: ServerRequestHandlers?

    public init() {}

    /// Elicitation answers from `--answers FILE` (a JSON object of fields) and `--answer field=value` pairs
    /// over it (values as typed: the form converts them); nil when neither is given.
    public static func fields(file: String?, pairs: [String]) throws(MCPConnError) -> JSONObject? {
        guard file != nil || !pairs.isEmpty else { return nil }
        var fields = JSONObject()
        if let file {
            let what = "the answers file \(file)"
            let text = try CallArguments.contents(
                LocalInput.read(path: file, limit: CallArguments.maxBytes).map(\.bytes), what)
            guard let object = (try? JSONValue.parse(text))?.objectValue else {
                throw .data("\(what) is not a JSON object of fields")
            }
            fields = object
        }
        for (key, value) in try CallArguments.strings(pairs, flag: "--answer").pairs { fields[key] = value }
        return fields
    }

    /// The first answer that failed, as the verb's error.
    public var problem: MCPConnError? { problems.first }

    /// The handlers of a session to `connector`; answers that take time (a person, a program) end by `deadline`.
    /// What the server asks is redacted before a person or a program sees it: it may echo the credential.
    func handlers(connector: String, deadline: ContinuousClock.Instant, redactor: Redactor) -> ServerRequestHandlers {
        if let relaying { return relaying }
        var handlers = ClientRoot.handlers(roots)
        let problems = self.problems
        if let fields {
            handlers.on(Elicit.self, declaring: ["form": [:]]) { params in
                Self.answer(Elicit.Params(redactor.redact(params.value)), with: fields, problems: problems)
            }
        } else if terminal {
            handlers.on(Elicit.self, declaring: ["form": [:], "url": [:]]) { params in
                let asked = Elicit.Params(redactor.redact(params.value))
                guard let answer = await TerminalForm.ask(asked, connector: connector, until: deadline) else {
                    problems.record(
                        MCPConnError(.timeout, "the form of connector '\(connector)' was not answered within --timeout")
                    )
                    return .success(Elicit.Result(action: "cancel"))
                }
                return .success(answer)
            }
        }
        handlers.refusals[CreateMessage.name] =
            "mcpconn declared no sampling capability (run it with --sampling-command CMD to answer sampling)"
        if let sampling {
            handlers.on(CreateMessage.self) { params in
                // The command is ended a little before the operation's deadline, so that its problem is known
                // when the request itself gives up, and the verb says why (not only "timed out").
                let left = deadline - ContinuousClock.now
                let until = deadline - max(.zero, min(.seconds(2), left / 4))
                switch await sampling.answer(redactor.redact(params.value), deadline: until) {
                case .success(let result): return .success(CreateMessage.Result(result))
                case .failure(let problem):
                    problems.record(
                        MCPConnError(problem.status, "sampling for connector '\(connector)': \(problem.message)"))
                    return .failure(
                        JSONRPCError(
                            code: JSONRPCError.internalError, message: "the client could not sample: \(problem.message)"
                        ))
                }
            }
        }
        return handlers
    }

    /// An elicitation answered from `--answer`/`--answers`: accepted with the form's content, or refused when the
    /// answers do not fit (the problem recorded, 65). A URL elicitation cannot be answered by a flag: declined.
    static func answer(_ params: Elicit.Params, with fields: JSONObject, problems: AnswerProblems)
        -> Result<Elicit.Result, JSONRPCError>
    {
        if params.string("mode") == "url" { return .success(.decline) }
        do throws(ElicitationProblem) {
            let content = try ElicitationForm(schema: params.requestedSchema).content(from: fields)
            return .success(Elicit.Result(json: ["action": "accept", "content": .object(content)]))
        } catch {
            let asked = TerminalText.escape(String((params.message ?? "").prefix(200)), .line)
            problems.record(MCPConnError(.dataError, "elicitation \"\(asked)\": \(error.message)"))
            return .failure(
                JSONRPCError(
                    code: JSONRPCError.invalidParams, message: "the client's answers do not fit: \(error.message)"))
        }
    }
}

/// The first failed answer of an operation (answers may run concurrently, on any thread).
final class AnswerProblems: Sendable {
    private let state = Locked<MCPConnError?>(nil)

    func record(_ problem: MCPConnError) { state.withLock { if $0 == nil { $0 = problem } } }
    var first: MCPConnError? { state.withLock { $0 } }
}
