import TestProcess

/// Runs a command-line tool the tests drive (`openssl`, `curl`) and returns its exit status and
/// what it printed (standard output and error together), failing when it runs past `timeout`.
/// - Parameter input: written to the tool's standard input, which is then closed (`nil`: none).
/// - Throws: ``ChildProcessError`` when it cannot start or runs past `timeout` (then it is stopped).
func runTool(
    _ path: String, _ arguments: [String], timeout: Double, input: String? = nil
) throws -> (status: Int32, output: String) {
    let outcome = try ChildProcess.run(
        path, arguments, input: input.map { Array($0.utf8) }, standardError: .standardOutput, timeout: .seconds(timeout))
    return (outcome.status.code, outcome.output)
}
