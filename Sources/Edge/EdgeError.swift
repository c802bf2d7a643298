/// Errors the edge reports to an operator at start-up or reload; each says what to do.
public struct EdgeError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable { case logFile, resolve, bind, limits, tls, reload }
    private let code: Code
    public let description: String

    static func logFile(path: String, reason: String) -> EdgeError {
        EdgeError(code: .logFile, description: "cannot open log file '\(path)': \(reason); check the path and its permissions")
    }

    static func resolve(_ address: EndpointAddress, context: String, reason: String) -> EdgeError {
        EdgeError(code: .resolve, description: "\(context): cannot resolve \(address): \(reason)")
    }

    static func bind(_ address: EndpointAddress, reason: String) -> EdgeError {
        EdgeError(
            code: .bind,
            description: "cannot listen on \(address): \(reason); is another process using it, or does binding need privileges?")
    }

    static func tls(_ reason: String) -> EdgeError {
        EdgeError(code: .tls, description: reason)
    }

    static func reload(_ reason: String) -> EdgeError {
        EdgeError(code: .reload, description: reason)
    }

    static func limits(_ reason: String) -> EdgeError {
        EdgeError(code: .limits, description: reason)
    }
}
