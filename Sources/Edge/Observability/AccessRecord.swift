import Limits

/// What the access log says about one request: nginx's fields plus the upstream and the limit
/// outcome, as one JSON line.
struct AccessRecord {
    var requestID: RequestID
    var client: String
    var method: String
    var target: String
    var started: Instant
    var route: String?
    var status = 0
    var bytesIn = 0
    var bytesOut = 0
    var upstream: String?
    var upstreamSeconds: Double?
    var limitOutcome = "none"
    /// Whether this request is written to the access log at all.
    var logged = true
    var userAgent: String?
    var referer: String?

    func jsonLine(durationSeconds: Double) -> String {
        var json = JSONLine()
        json.add("time", Timestamp.now())
        json.add("request_id", requestID.description)
        json.add("client", client)
        json.add("method", method)
        json.add("path", target)
        json.add("route", route ?? "")
        json.add("status", status)
        json.add("bytes_in", bytesIn)
        json.add("bytes_out", bytesOut)
        json.add("duration", durationSeconds)
        json.add("upstream", upstream ?? "")
        if let upstreamSeconds { json.add("upstream_duration", upstreamSeconds) }
        json.add("rate_limit", limitOutcome)
        if let userAgent { json.add("user_agent", userAgent) }
        if let referer { json.add("referer", referer) }
        return json.finish()
    }
}
