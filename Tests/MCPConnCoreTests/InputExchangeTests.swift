import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// `InputExchange`'s state machine: a connector's questions reach the client's next step whichever comes first,
/// the client's answers reach the questions by key, and an abandoned exchange leaves nothing waiting.
@Suite("serve's input exchanges", .timeLimit(.minutes(1)))
struct InputExchangeTests {
    static func exchange(seconds: Int = 60) -> InputExchange {
        InputExchange(method: "tools/call", name: "t", deadline: .now + .seconds(seconds))
    }

    @Test func aQuestionAskedBeforeTheClientWaitsIsItsFirstStepThenTheAnswerReachesIt() async throws {
        let e = Self.exchange()
        let asked = Locked<JSONValue?>(nil)
        e.start {
            let answer = await e.ask("elicitation/create", ["message": "Sure?"])
            asked.withLock { $0 = try? answer.get() }
            return .success(["content": [], "answered": (try? answer.get()) ?? .null])
        }
        guard case .questions(let questions) = await e.next() else {
            Issue.record("expected questions")
            return
        }
        #expect(questions.map(\.method) == ["elicitation/create"])
        #expect(questions.first?.params?["message"] == "Sure?")
        let required = e.inputRequired(questions)
        #expect(required["resultType"] == "input_required")
        #expect(required["requestState"]?.stringValue?.hasPrefix(InputExchange.prefix) == true)
        #expect(required["inputRequests"]?[questions[0].key]?["method"] == "elicitation/create")
        e.answer([questions[0].key: ["action": "accept"]])
        guard case .done(let outcome) = await e.next() else {
            Issue.record("expected the outcome")
            return
        }
        #expect((try? outcome.get())?["answered"] == ["action": "accept"])
        #expect(asked.withLock { $0 } == ["action": "accept"])
    }

    @Test func aResultWithoutQuestionsIsTheFirstStep() async {
        let e = Self.exchange()
        e.start { .success("done") }
        guard case .done(let outcome) = await e.next() else {
            Issue.record("expected the outcome")
            return
        }
        #expect((try? outcome.get()) == "done")
    }

    @Test func aQuestionTheClientLeftOutIsAnsweredWithAnError() async {
        let e = Self.exchange()
        e.start {
            async let first = e.ask("roots/list", nil)
            async let second = e.ask("sampling/createMessage", nil)
            let answers = await [first, second]
            return .success(.array(answers.map { (try? $0.get()) ?? "refused" }))
        }
        var told: [InputExchange.Question] = []
        while told.count < 2 {
            guard case .questions(let more) = await e.next() else {
                Issue.record("expected questions")
                return
            }
            told += more
        }
        let roots = told.first { $0.method == "roots/list" }!
        e.answer([roots.key: ["roots": []]])
        guard case .done(let outcome) = await e.next() else {
            Issue.record("expected the outcome")
            return
        }
        let answers = (try? outcome.get())?.arrayValue ?? []
        #expect(answers.contains(["roots": []]) && answers.contains("refused"), "\(answers)")
    }

    @Test func anAbandonedExchangeRefusesItsQuestionsAndCancelsTheConnectorsRequest() async throws {
        let e = Self.exchange()
        let cancelled = Locked(false)
        e.start {
            let answer = await e.ask("elicitation/create", nil)
            cancelled.withLock { $0 = Task.isCancelled }
            return answer.map { _ in "answered" }
        }
        guard case .questions = await e.next() else {
            Issue.record("expected questions")
            return
        }
        e.abandon()
        guard case .done(let outcome) = await e.next() else {
            Issue.record("expected the end")
            return
        }
        #expect((try? outcome.get()) == nil)
        #expect(try await eventually { cancelled.withLock { $0 } })
        // A question asked after the end is refused at once, never left waiting.
        let late = await e.ask("roots/list", nil)
        #expect((try? late.get()) == nil)
    }

    @Test func theTableGivesAnExchangeOnceAndDropsItAtItsDeadline() async throws {
        let table = InputExchanges()
        let kept = Self.exchange()
        table.keep(kept)
        #expect(table.take(kept.token) === kept)
        #expect(table.take(kept.token) == nil)
        let short = Self.exchange(seconds: 0)
        short.start { await short.ask("roots/list", nil).map { $0 } }
        _ = await short.next()
        table.keep(short)
        #expect(try await eventually { table.take(short.token) == nil })
    }
}
