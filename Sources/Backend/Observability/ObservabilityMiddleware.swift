import Hummingbird
import Logging

/// Records every request in the metrics and writes its access-log line, in one place so the
/// two always agree on route and status.
///
/// It runs right after ``RequestIDMiddleware`` (so the line carries the request id) and before
/// ``ErrorEnvelopeMiddleware`` (so it sees the status the client gets, errors included). The
/// access-log line (info) carries `request_id`, `method`, `route` (the route template, never the
/// raw path, which may hold ids or query strings with secrets), `status` and `duration_ms`:
/// the time until the response was ready, before its body is written.
public struct ObservabilityMiddleware: RouterMiddleware {
    public typealias Context = BackendRequestContext

    let metrics: BackendMetrics

    public init(metrics: BackendMetrics) {
        self.metrics = metrics
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        metrics.requestStarted()
        do {
            let response = try await next(request, context)
            finished(request, context: context, status: response.status.code, since: start)
            return response
        } catch {
            // The error envelope is inside this middleware, so only a failure in it lands here.
            finished(request, context: context, status: APIError(error).status.code, since: start)
            throw error
        }
    }

    private func finished(_ request: Request, context: Context, status: Int, since start: ContinuousClock.Instant) {
        let duration = ContinuousClock.now - start
        let route = BackendMetrics.routeLabel(context.endpointPath)
        metrics.requestFinished(method: request.method, route: context.endpointPath, status: status, duration: duration)
        let (seconds, attoseconds) = duration.components
        let milliseconds = ((Double(seconds) * 1000 + Double(attoseconds) / 1e15) * 1000).rounded() / 1000
        context.logger.info(
            "request",
            metadata: [
                "request_id": .string(context.requestID),
                "method": .string(request.method.rawValue),
                "route": .string(route),
                "status": .stringConvertible(status),
                "duration_ms": .stringConvertible(milliseconds),
            ])
    }
}
