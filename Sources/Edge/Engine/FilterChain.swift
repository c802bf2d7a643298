import Limits

/// The order in which the edge looks at a request, in one function: every check that can answer
/// a request before it reaches an upstream, and the route it goes to. Pure but for the limit
/// tables it consults (which take `now` as an input); the connection acts on the verdict.
///
/// The order, and why:
/// 1. request ID and real client address (everything after logs and limits by them);
/// 2. the connection's cap (`connections_per_client`): a connection over it gets only refusals;
/// 3. `Host` (RFC 9112 §3.2): ambiguous hosts are never routed;
/// 4. behind trusted proxies, the real client's cap on requests in flight;
/// 5. the path guard (dot-files, traversal), not logged, as the old front's `deny all`;
/// 6. the declared body size, before any of the body is read;
/// 7. the plain-HTTP listener: ACME challenges, else the redirect to HTTPS;
/// 8. the route (longest prefix), then its rate limits (reject, or delay); a strict shared
///    zone's rule asks its store (``RequestDecision/askSharedZone(_:)``) and the chain resumes
///    with the answer (``resume(_:verdict:question:answer:now:)``);
/// 9. the route's action: fixed answer, redirect, static files (GET and HEAD only), proxy.
enum FilterChain {
    /// What the chain needs to know of the connection a request came on.
    struct Connection {
        var peer: ClientKey
        /// Whether the peer is a trusted proxy (its `X-Forwarded-For` and `X-Request-ID` count).
        var peerTrusted: Bool
        /// A stream of an HTTP/2 connection (`:authority` may repeat as `host`; no `Host` needed).
        var isHTTP2Stream: Bool
        /// The connection was over the client's cap when it opened.
        var overConnectionLimit: Bool
        /// Set on a listener that only redirects to HTTPS (and serves ACME challenges).
        var httpsRedirect: HTTPSRedirect?
    }

    static func decide<Head: RequestHeadFields, Random: RandomNumberGenerator>(
        _ head: Head, on connection: Connection, runtime: EdgeRuntime, connectionLimiter: ConnectionLimiter?, now: Instant,
        random: inout Random
    ) -> RequestVerdict {
        let requestID = requestID(head, trusted: connection.peerTrusted, random: &random)
        let client = connection.peerTrusted
            ? ClientAddress.resolve(
                peer: connection.peer, forwardedFor: head.values("x-forwarded-for").map { Substring($0) },
                trusted: runtime.config.trustedProxies)
            : connection.peer
        let declaredLength = head.first("content-length").flatMap { Int($0) }
        var verdict = RequestVerdict(
            decision: .answer(.notFound, route: nil, close: false), requestID: requestID, client: client,
            hasBody: head.contains("transfer-encoding") || (declaredLength ?? 0) > 0)

        choose(
            head, connection: connection, runtime: runtime, connectionLimiter: connectionLimiter, now: now,
            declaredLength: declaredLength, into: &verdict)
        return verdict
    }

    /// The chain after the request ID and client are known: sets `verdict`'s decision (one exit
    /// in ``decide(_:on:runtime:connectionLimiter:now:random:)``, so the verdict is returned
    /// without a copy).
    private static func choose<Head: RequestHeadFields>(
        _ head: Head, connection: Connection, runtime: EdgeRuntime, connectionLimiter: ConnectionLimiter?, now: Instant,
        declaredLength: Int?, into verdict: inout RequestVerdict
    ) {
        let client = verdict.client
        // The target is made into a string once (a path past 15 bytes costs an allocation);
        // set before any refusal, so the access record always has it.
        let sentTarget = head.target
        verdict.target = sentTarget
        if connection.overConnectionLimit {
            verdict.limitOutcome = "connection_limited"
            return setAnswer(.connectionLimited, route: nil, close: true, in: &verdict)
        }
        switch hostVerdict(head, target: sentTarget, isHTTP2Stream: connection.isHTTP2Stream) {
        case .invalid(let reason): return setAnswer(.badRequest(reason), route: nil, close: true, in: &verdict)
        case .valid(let originForm): verdict.originFormTarget = originForm
        }
        verdict.target = verdict.originFormTarget ?? sentTarget
        if connection.peerTrusted, let connectionLimiter {
            switch connectionLimiter.acquire(client) {
            case .acquired(let lease):
                verdict.requestLease = lease
            case .rejected:
                verdict.limitOutcome = "connection_limited"
                verdict.refusedBy = .connectionLimit
                return setAnswer(.connectionLimited, route: nil, close: false, in: &verdict)
            }
        }
        let target = verdict.target
        if PathGuard.isForbidden(Substring(target)) {
            verdict.logged = false  // as the old front's `deny all; access_log off;`
            return setAnswer(.forbidden, route: nil, close: false, in: &verdict)
        }
        if let declaredLength, declaredLength > runtime.config.limits.maxBodySize {
            // Refused before a byte of the body is read; the connection closes rather than drain it.
            return setAnswer(.payloadTooLarge, route: nil, close: true, in: &verdict)
        }
        let path = target[..<(target.utf8.firstIndex(of: UInt8(ascii: "?")) ?? target.endIndex)]
        if let redirect = connection.httpsRedirect {
            if let acme = redirect.acmeRoute, let directory = redirect.acmeStatic, path.hasPrefix(acme.config.prefix) {
                verdict.routeLabel = acme.label
                verdict.decision = staticDecision(head, target: target, config: directory, route: acme)
                return
            }
            verdict.routeLabel = "https-redirect"
            return setAnswer(.httpsRedirect, route: nil, close: false, in: &verdict)
        }
        guard let route = runtime.router.route(for: path) else { return setAnswer(.notFound, route: nil, close: false, in: &verdict) }
        verdict.routeLabel = route.label
        verdict.logged = route.config.accessLog
        var delay: Duration = .zero
        if !route.policy.localRules.isEmpty,
            !apply(route.policy.check(client, now: now), route: route, to: &verdict, delay: &delay)
        {
            return
        }
        askOrAct(head, route: route, verdict: &verdict, strictRule: 0, delay: delay)
    }

    /// Sets the verdict's decision to one of the edge's own answers.
    @inline(__always)
    private static func setAnswer(_ local: LocalAnswer, route: CompiledRoute?, close: Bool, in verdict: inout RequestVerdict) {
        verdict.decision = .answer(local, route: route, close: close)
    }

    /// Records a rate-limit outcome in the verdict: the access log's field, the longest delay,
    /// or the 429 (then returns `false`: the chain stops).
    private static func apply(
        _ decision: RateLimitDecision, route: CompiledRoute, to verdict: inout RequestVerdict, delay: inout Duration
    ) -> Bool {
        switch decision {
        case .allowed:
            if verdict.limitOutcome == "none" { verdict.limitOutcome = "passed" }
        case .delayed(let by):
            verdict.limitOutcome = "delayed"
            delay = max(delay, by)
        case .rejected(let retryAfter, let zone):
            verdict.limitOutcome = "rejected:\(zone)"
            verdict.refusedBy = .rateLimit(zone: zone)
            verdict.decision = .answer(.rateLimited(retryAfter: retryAfter), route: route, close: false)
            return false
        }
        return true
    }

    /// Goes on after a strict zone's store answered `question` (or did not, in time): the
    /// zone's rule decides from the answer, then the route's next strict rule asks, or the
    /// route's action follows, as the chain would have gone on after a local decision.
    static func resume<Head: RequestHeadFields>(
        _ head: Head, verdict: RequestVerdict, question: SharedZoneQuestion, answer: SharedZoneStrictAnswer, now: Instant
    ) -> RequestVerdict {
        var verdict = verdict
        var delay = question.delay
        let decision = RateLimitPolicy.decide(question.rule, client: verdict.client, answer: answer, now: now)
        guard apply(decision, route: question.route, to: &verdict, delay: &delay) else { return verdict }
        askOrAct(head, route: question.route, verdict: &verdict, strictRule: question.ruleIndex + 1, delay: delay)
        return verdict
    }

    /// The route's strict rule `strictRule` asks its store, or, with none left, the route acts.
    /// A strict rule decides after the route's local rules, so a request they refuse costs no
    /// round trip; one a strict rule refuses stays charged to the local rules that passed it
    /// (Redis and this edge's tables cannot be locked together), which errs towards refusing.
    private static func askOrAct<Head: RequestHeadFields>(
        _ head: Head, route: CompiledRoute, verdict: inout RequestVerdict, strictRule: Int, delay: Duration
    ) {
        if strictRule < route.policy.strictRules.count {
            verdict.decision = .askSharedZone(SharedZoneQuestion(route: route, ruleIndex: strictRule, delay: delay))
            return
        }
        let target = verdict.target
        switch route.config.action {
        case .respond(let status, let body, let contentType):
            verdict.decision = .answer(.respond(status: status, body: body, contentType: contentType), route: route, close: false)
        case .redirect(let location, let status, let appendPath):
            var location = location
            if appendPath { location += String(target.dropFirst(min(route.config.prefix.count, target.count))) }
            verdict.decision = .answer(.redirect(location: location, status: status), route: route, close: false)
        case .staticFiles(let directory):
            verdict.decision = staticDecision(head, target: target, config: directory, route: route)
        case .proxy:
            guard let cluster = route.cluster else { preconditionFailure("a proxy route without a cluster passed validation") }
            verdict.decision = .proxy(route, cluster, delay: delay)
        }
    }

    /// The request's ID: a trusted proxy's, when well formed, else a new one.
    static func requestID<Head: RequestHeadFields, Random: RandomNumberGenerator>(
        _ head: Head, trusted: Bool, random: inout Random
    ) -> RequestID {
        if trusted, let incoming = head.first("x-request-id"), RequestID.isWellFormed(Substring(incoming)) { return .given(incoming) }
        return RequestID.generate(using: &random)
    }

    /// RFC 9112 §3.2 on the head's `Host` lines. An HTTP/2 request's `:authority` arrives as
    /// `host`, possibly beside a `host` field of the same value; HTTP/2 needs neither (RFC 9113
    /// §8.3.1). The usual single Host is read without building an array.
    static func hostVerdict<Head: RequestHeadFields>(_ head: Head, target: String, isHTTP2Stream: Bool) -> RequestHost.Verdict {
        if !isHTTP2Stream, RequestHost.AbsoluteTarget(target) == nil {
            // The usual request: its Host lines are counted and the first checked on their bytes.
            var count = 0
            var firstValid = true
            head.forEachValueBytes("host") { value in
                count += 1
                if count == 1 { firstValid = RequestHost.isValidHost(bytes: value) }
            }
            return RequestHost.checkNotAbsolute(hostCount: count, firstHostValid: firstValid, requiresHost: head.isHTTP11OrLater)
        }
        var host: String?
        var hostCount = 0
        head.forEachValue("host") { value in
            if let host, isHTTP2Stream, value.lowercased() == host.lowercased() { return }
            if host == nil { host = value }
            hostCount += 1
        }
        return RequestHost.check(
            target: target, host: host, hostCount: hostCount, requiresHost: !isHTTP2Stream && head.isHTTP11OrLater)
    }

    /// A static directory serves GET and HEAD, and only paths that stay below its root.
    private static func staticDecision<Head: RequestHeadFields>(
        _ head: Head, target: String, config: StaticConfig, route: CompiledRoute
    ) -> RequestDecision {
        guard head.methodName == "GET" || head.methodName == "HEAD" else {
            return .answer(.methodNotAllowed(allow: "GET, HEAD", message: "only GET and HEAD are served here"), route: route, close: false)
        }
        guard let relative = StaticPath.relative(target: target, prefix: route.config.prefix) else {
            return .answer(.forbidden, route: route, close: false)
        }
        return .serveStatic(config, relative: relative, route: route)
    }
}
