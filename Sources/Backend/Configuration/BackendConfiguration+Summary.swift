extension BackendConfiguration {
    /// Every setting by its key, as it is in effect, safe to log and to show in
    /// `/api/health/detailed`: URLs with their passwords masked (and passed through
    /// ``Redaction`` besides), API tokens as a count.
    public var summary: [String: String] {
        var summary: [String: String] = [
            "DATA_DIR": dataDirectory,
            "DB_POOL_MIN": String(databasePool.minimumConnections),
            "DB_POOL_MAX": String(databasePool.maximumConnections),
            "DB_CONNECT_TIMEOUT": DurationText.format(databasePool.connectTimeout),
            "DB_STARTUP_ATTEMPTS": String(databaseStartup.attempts),
            "DB_TIMEOUT": DurationText.format(databaseTimeout),
            "DB_BREAKER_THRESHOLD": String(databaseBreaker.failureThreshold),
            "DB_BREAKER_COOLDOWN": DurationText.format(databaseBreaker.coolDown),
            "UPLOADS_DIR": uploadsDirectory,
            "MAX_UPLOAD_BYTES": String(maxUploadBytes),
            "API_TOKENS": apiTokenCount == 0 ? "none (writes open)" : "\(apiTokenCount) configured",
            "WORKERS": String(workers.count),
            "MAX_REQUESTS": String(workers.maxRequests),
            "MAX_REQUESTS_JITTER": String(workers.maxRequestsJitter),
            "WORKER_TIMEOUT": DurationText.format(workers.timeout),
            "GRACEFUL_TIMEOUT": DurationText.format(workers.gracefulTimeout),
            "WORKER_DRAIN_SPREAD": DurationText.format(workers.drainSpread),
            "WORKER_CONNECTIONS": String(workers.connections),
            "METRICS_ADDRESS": workers.metricsAddress.description,
            "WORKER_SOCKETS": workers.sharedSocket ? "shared" : "per-worker",
            "LOG_LEVEL": logLevel.rawValue,
            "LOG_FORMAT": logFormat.rawValue,
        ]
        switch database {
        case .sqlite(let sqlite):
            summary["DATABASE_URL"] = "sqlite:///\(sqlite.path) (embedded)"
        case .postgres(let postgres):
            summary["DATABASE_URL"] = Redaction.redact(postgres.redactedDescription)
        }
        if let cache {
            summary["REDIS_URL"] = Redaction.redact(cache.redis.description)
            summary["REDIS_POOL_SIZE"] = String(cache.redis.poolSize)
            summary["REDIS_TIMEOUT"] = DurationText.format(cache.redis.commandTimeout)
            summary["CACHE_BREAKER_THRESHOLD"] = String(cache.breaker.failureThreshold)
            summary["CACHE_BREAKER_COOLDOWN"] = DurationText.format(cache.breaker.coolDown)
        } else {
            summary["REDIS_URL"] = "none (no cache)"
        }
        switch listen {
        case .tcp(let host, let port):
            summary["HOST"] = host
            summary["PORT"] = String(port)
        case .unixSocket(let path):
            summary["UNIX_SOCKET"] = path
        }
        if let file { summary["HOMERACK_CONFIG"] = file }
        return summary
    }
}
