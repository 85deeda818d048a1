import Testing

/// The gateway's CLI suites (issue 26), one test at a time among them: each starts several processes at once
/// (two serves, an issuer, the official SDK client, PostgreSQL databases), and all of them at the suite's start
/// made a trivial `mcpconn add` of another test take 5 to 15 s on this 2-core machine, past its time limit.
@Suite(.serialized) enum GatewaySuites {}

typealias ClientsCLITests = GatewaySuites.ClientsCLITests
typealias OAuthServeCLITests = GatewaySuites.OAuthServeCLITests
typealias AuditCLITests = GatewaySuites.AuditCLITests
typealias MetricsCLITests = GatewaySuites.MetricsCLITests
typealias GatewayReplicasCLITests = GatewaySuites.GatewayReplicasCLITests
