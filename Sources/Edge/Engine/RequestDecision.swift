import Limits

/// An answer the edge makes itself, named by what it means; ``AnswerContent`` says it (status,
/// the error envelope, headers), so the engine decides without building bytes.
enum LocalAnswer: Equatable, Sendable {
    /// Over `connections_per_client` (status `limits.connection_limit_status`).
    case connectionLimited
    /// A request the edge refuses to forward, with the reason for the message.
    case badRequest(String)
    /// The path guard (dot-files, traversal) or a static path that escapes its root.
    case forbidden
    /// A declared `Content-Length` over `limits.max_body_size`.
    case payloadTooLarge
    /// No route for the path.
    case notFound
    /// Over a rate limit (status `limits.rate_limit_status`), with the exact wait.
    case rateLimited(retryAfter: Duration)
    /// A method the route does not serve.
    case methodNotAllowed(allow: String, message: String)
    /// The plain-HTTP listener's redirect to HTTPS.
    case httpsRedirect
    /// A route's fixed answer.
    case respond(status: Int, body: String, contentType: String)
    /// A route's redirect.
    case redirect(location: String, status: Int)
}

/// What happens to a request once its head is read: the result of ``FilterChain/decide``.
enum RequestDecision: Equatable {
    /// The edge answers itself; `close` when the connection must close after it (the client's
    /// keep-alive wish is applied on top of that by the connection).
    case answer(LocalAnswer, route: CompiledRoute?, close: Bool)
    /// A file below a static root (`relative` is checked against escapes already).
    case serveStatic(StaticConfig, relative: String, route: CompiledRoute)
    /// Proxy to the route's cluster, after `delay` (nginx's `limit_req` delay; zero for none).
    case proxy(CompiledRoute, Cluster, delay: Duration)
    /// A strict shared zone decides: ask its store (at most the zone's `timeout`), then pass the
    /// answer to ``FilterChain/resume(_:verdict:question:answer:now:)``, which goes on
    /// with the chain's remaining steps.
    case askSharedZone(SharedZoneQuestion)

    static func == (lhs: RequestDecision, rhs: RequestDecision) -> Bool {
        switch (lhs, rhs) {
        case let (.answer(a, r1, c1), .answer(b, r2, c2)): a == b && r1 === r2 && c1 == c2
        case let (.serveStatic(s1, p1, r1), .serveStatic(s2, p2, r2)): s1 == s2 && p1 == p2 && r1 === r2
        case let (.proxy(r1, c1, d1), .proxy(r2, c2, d2)): r1 === r2 && c1 === c2 && d1 == d2
        case let (.askSharedZone(q1), .askSharedZone(q2)): q1 == q2
        default: false
        }
    }
}

/// What the filter chain asks of a strict shared zone's store for one request, and where the
/// chain stands meanwhile: the route matched, the local rules passed with `delay`, and the
/// route's strict rule at `ruleIndex` (of its policy's ``RateLimitPolicy/strictRules``) decides next.
struct SharedZoneQuestion: Equatable {
    let route: CompiledRoute
    let ruleIndex: Int
    /// The longest delay the rules decided so far asked for.
    let delay: Duration

    var rule: RateLimitRule { route.policy.strictRules[ruleIndex] }
    var zone: RateLimitZone { rule.zone }

    /// The request as the store's queue takes it.
    func entry(client: ClientKey, now: Instant, waiter: @escaping SharedZoneStrictQueue.Waiter) -> SharedZoneStrictQueue.Entry {
        let zone = self.zone
        return .init(
            key: client.aggregated(ipv6PrefixLength64: zone.aggregatesIPv6By64),
            tolerance: UInt64(rule.burst) &* zone.rate.interval, queued: now, waiter: waiter)
    }

    static func == (lhs: SharedZoneQuestion, rhs: SharedZoneQuestion) -> Bool {
        lhs.route === rhs.route && lhs.ruleIndex == rhs.ruleIndex && lhs.delay == rhs.delay
    }
}

/// Everything the filter chain worked out about one request, for the connection to act on.
struct RequestVerdict {
    var decision: RequestDecision
    /// The request's ID: a trusted proxy's well-formed `X-Request-ID`, else a new one.
    var requestID: RequestID
    /// The real client (behind trusted proxies, from `X-Forwarded-For`), for limits and logs.
    var client: ClientKey
    /// The target in origin form when the request came in absolute form (forward this one).
    var originFormTarget: String?
    /// The target as routed and logged: ``originFormTarget``, else the target as sent (made once
    /// per request, by ``FilterChain/decide(_:on:runtime:connectionLimiter:now:random:)``).
    var target = ""
    /// Whether a body follows the head (`Transfer-Encoding`, or a `Content-Length` above zero).
    var hasBody: Bool
    /// The route's metrics and log label, once a route matched (`https-redirect` on port 80).
    var routeLabel: String?
    /// The access log's `rate_limit` field.
    var limitOutcome = "none"
    /// Whether the request is written to the access log.
    var logged = true
    /// Behind trusted proxies: the real client's slot for this request, released with its log line.
    var requestLease: ConnectionLease?
    /// A limit that refused the request, for its metric.
    var refusedBy: Refusal?

    enum Refusal: Equatable {
        case connectionLimit
        case rateLimit(zone: String)
    }
}
