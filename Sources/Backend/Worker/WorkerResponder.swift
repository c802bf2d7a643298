import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns a router into the closure Hummingbird's `HTTP1Channel` calls per request, as
/// `Application` does (a context per request, unknown errors as 500, a `Date` header), and
/// counts each request against the worker's budget.
enum WorkerResponder {
    /// - Parameters:
    ///   - responder: the router's responder (`router.buildResponder()`).
    ///   - counter: the worker's request count; the request that uses up the budget calls
    ///     `budgetSpent` (once), and is still answered.
    ///   - logger: the logger each request's context starts from.
    static func make<Responder: HTTPResponder>(
        _ responder: Responder, counter: RequestCounter, logger: Logger,
        budgetSpent: @escaping @Sendable () -> Void
    ) -> HTTPChannelHandler.Responder where Responder.Context == BackendRequestContext {
        let dates = HTTPDateCache()
        return { request, responseWriter, channel in
            if counter.requestArrived() { budgetSpent() }
            let context = BackendRequestContext(source: .init(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await responder.respond(to: request, context: context)
            } catch let error as HTTPParserError {
                throw error
            } catch {
                logger.debug("unhandled error", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
                response = Response(status: .internalServerError)
            }
            response.headers[.date] = dates.current()
            try await responseWriter.write(response: response.head, body: response.body)
        }
    }
}

/// The `Date` header value (RFC 9110 IMF-fixdate), formatted once per second.
final class HTTPDateCache: Sendable {
    private let cached = Mutex<(second: Int, text: String)>((-1, ""))

    func current() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let second = Int(now.tv_sec)
        return cached.withLock { cached in
            if cached.second != second { cached = (second, Self.format(second)) }
            return cached.text
        }
    }

    static func format(_ second: Int) -> String {
        var time = time_t(second)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
