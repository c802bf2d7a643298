import Foundation

/// Reads HTTP/1.1 responses framed by Content-Length, the chunked coding or the close. Used by
/// one test at a time (hence `@unchecked Sendable`: its async methods hand it to a thread of
/// their own).
final class ResponseReader: @unchecked Sendable {
    struct Message: Equatable {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    let client: TestClient
    private var buffer: [UInt8] = []
    private var position = 0
    private var ended = false
    /// Body bytes of the last response read (also of a truncated one).
    private(set) var receivedBodyBytes = 0

    init(port: Int) throws {
        client = try TestClient(port: port)
    }

    func send(_ text: String) throws { try client.send(text) }
    func send(_ bytes: [UInt8]) throws { try client.send(bytes) }

    private func fill() throws -> Bool {
        if ended { return false }
        if position > 1 << 20 {
            buffer.removeFirst(position)
            position = 0
        }
        let chunk = try client.receive(max: 1 << 18)
        if chunk.isEmpty {
            ended = true
            return false
        }
        buffer += chunk
        return true
    }

    private func line() throws -> String {
        while true {
            if let i = buffer[position...].firstIndex(of: 10) {
                let text = String(decoding: buffer[position..<i], as: UTF8.self)
                position = i + 1
                return text.hasSuffix("\r") ? String(text.dropLast()) : text
            }
            guard try fill() else { throw TestFailure("end of stream inside a line") }
        }
    }

    private func take(_ count: Int) throws -> ArraySlice<UInt8> {
        while buffer.count - position < count {
            guard try fill() else {
                receivedBodyBytes += buffer.count - position
                throw TestFailure("end of stream after \(receivedBodyBytes) body bytes")
            }
        }
        defer { position += count }
        return buffer[position..<position + count]
    }

    /// The next response; `nil` at the end of the stream between responses. Throws when the
    /// stream ends inside one (a truncated response).
    func next() throws -> Message? {
        receivedBodyBytes = 0
        if buffer.count == position, !(try fill()) { return nil }
        let statusLine = try line()
        let words = statusLine.split(separator: " ")
        guard words.count >= 2, let status = Int(words[1]) else { throw TestFailure("bad status line \(statusLine)") }
        var headers: [String: String] = [:]
        while true {
            let field = try line()
            if field.isEmpty { break }
            let parts = field.split(separator: ":", maxSplits: 1)
            headers[parts[0].lowercased()] = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        }
        var body: [UInt8] = []
        if headers["transfer-encoding"] == "chunked" {
            while true {
                let size = Int(try line().split(separator: ";")[0], radix: 16) ?? -1
                guard size >= 0 else { throw TestFailure("bad chunk size") }
                if size == 0 {
                    while !(try line()).isEmpty {}
                    break
                }
                body += try take(size)
                receivedBodyBytes = body.count
                guard try take(2) == [13, 10] else { throw TestFailure("bad chunk end") }
            }
        } else if let length = headers["content-length"].flatMap({ Int($0) }) {
            body = Array(try take(length))
        } else {
            while try fill() {}
            body = Array(buffer[position...])
            position = buffer.count
        }
        receivedBodyBytes = body.count
        return Message(status: status, headers: headers, body: body)
    }
}

extension ResponseReader {
    // Off the cooperative pool (``offThePool(_:)``): a read blocks until the server answers.

    func send(_ text: String) async throws { try await offThePool { try self.send(text) } }
    func send(_ bytes: [UInt8]) async throws { try await offThePool { try self.send(bytes) } }
    func next() async throws -> Message? { try await offThePool { try self.next() } }
}
