import Dispatch
import Foundation

/// Runs a command-line tool the tests drive (`openssl`, `curl`) and returns its exit status and
/// what it printed (standard output and error together), failing when it runs past `timeout`.
/// Its output must stay small (a pipe is read after the exit): large results go to a file.
/// - Parameter input: written to the tool's standard input, which is then closed (`nil`: the
///   test process's own).
func runTool(
    _ path: String, _ arguments: [String], timeout: Double, input: String? = nil
) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    let inputPipe = input.map { _ in Pipe() }
    if let inputPipe { process.standardInput = inputPipe }
    let exited = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in exited.signal() }
    try process.run()
    if let input, let inputPipe {
        inputPipe.fileHandleForWriting.write(Data(input.utf8))
        try? inputPipe.fileHandleForWriting.close()
    }
    guard exited.wait(timeout: .now() + timeout) == .success else {
        process.terminate()
        throw TestFailure("\(path) \(arguments.joined(separator: " ")) did not finish within \(Int(timeout)) s")
    }
    return (process.terminationStatus, String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
}
