import ServerSupport

/// "Did you mean" for misspelt keys and names.
///
/// A typo in a key would otherwise only say "unknown key"; pointing at the intended key (or
/// at the edge's name for an nginx directive) saves a trip to `docs/CONFIG.md`.
enum ConfigSuggestion {
    /// nginx directive names an operator coming from the old front may type, and the key that
    /// does the same here.
    private static let nginxNames: [String: String] = [
        "client_max_body_size": "max_body_size",
        "client_header_timeout": "client_header",
        "client_body_timeout": "client_body",
        "keepalive_timeout": "keepalive",
        "send_timeout": "send",
        "limit_conn": "connections_per_client",
        "limit_req": "rate_limit",
        "limit_req_zone": "zones",
        "limit_req_status": "rate_limit_status",
        "limit_conn_status": "connection_limit_status",
        "proxy_pass": "proxy",
        "proxy_connect_timeout": "connect_timeout",
        "proxy_read_timeout": "read_timeout",
        "proxy_send_timeout": "send_timeout",
        "add_header": "headers",
        "proxy_hide_header": "remove_from_upstream",
        "set_real_ip_from": "trusted_proxies",
        "location": "prefix",
        "listen": "listeners",
        "upstream": "upstreams",
        "server": "servers",
        "return": "respond",
        "rewrite": "redirect",
        "root": "static",
        "try_files": "spa_fallback",
        "gzip": "compress",
        "worker_processes": "event_loops",
        "expires": "cache_control",
        "workers": "event_loops",
        "threads": "event_loops",
    ]

    /// The candidate `word` most likely stands for, if any is close enough.
    static func closest(to word: String, in candidates: [String]) -> String? {
        if let mapped = nginxNames[word.lowercased()], candidates.contains(mapped) { return mapped }
        let normalizedWord = normalize(word)
        // Same letters once case and separators are ignored: `maxBodySize`, `max-body-size`.
        if let match = candidates.first(where: { normalize($0) == normalizedWord }) { return match }
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = optimalStringAlignmentDistance(normalizedWord, normalize(candidate))
            let allowed = max(1, min(normalizedWord.count, candidate.count) / 3)
            if distance <= allowed, distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        if let best { return best.candidate }
        // `warn` for `warning`, `client_header_timeout` for `client_header`.
        if normalizedWord.count >= 4 {
            let containing = candidates.filter {
                let candidate = normalize($0)
                return candidate.count >= 4
                    && (candidate.contains(normalizedWord) || normalizedWord.contains(candidate))
            }
            if containing.count == 1 { return containing[0] }
        }
        return nil
    }

    /// `; did you mean 'x'?` or the empty string.
    static func hint(for word: String, in candidates: [String]) -> String {
        closest(to: word, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }

    private static func normalize(_ word: String) -> [Character] {
        Array(word.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
    }
}
