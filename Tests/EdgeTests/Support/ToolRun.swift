import TestProcess

/// Runs a command-line tool the tests drive (`openssl`, `curl`) and returns its exit status and
/// what it printed (standard output and error together), failing when it runs past `timeout`.
/// - Throws: ``ChildProcessError`` when it cannot start or runs past `timeout` (then it is stopped).
func runTool(_ path: String, _ arguments: [String], timeout: Double) throws -> (status: Int32, output: String) {
    let outcome = try ChildProcess.run(path, arguments, standardError: .standardOutput, timeout: .seconds(timeout))
    return (outcome.status.code, outcome.output)
}
