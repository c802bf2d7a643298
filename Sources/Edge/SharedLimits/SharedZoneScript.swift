import Limits

/// The Lua script that charges a batch to the zone's global state in Redis, atomically, and
/// decides a strict zone's requests.
///
/// Per client it keeps one key, `homerack:rl:{ZONE}:CLIENT`, holding the client's theoretical
/// arrival time (TAT) in microseconds on Redis's own clock (`TIME`): edges' monotonic clocks
/// are not comparable, so only durations ("ahead of now by …") cross the wire. Per key it reads
/// one argument `n`:
///
/// - `n ≥ 0` (batched): GCRA's update for `n` admissions, `tat = max(tat, now) + n × interval`,
///   and answers `tat − now` in microseconds; `n = 0` only reads (a refresh). Nothing is refused:
///   the edges already admitted what they report, and a client over its limit carries the excess
///   as a TAT further ahead, which every edge then refuses until it drains.
/// - `n < 0` (strict): a decision with tolerance `−n − 1` microseconds (the rule's burst as
///   time). A client ahead by more is refused, nothing charged, and the answer is `−ahead`
///   (below zero); otherwise one admission is charged and the answer is `ahead` before it (≥ 0).
///
/// Either way a written key expires when the bucket has drained (its TTL is `tat − now`), and
/// batched and strict edges can share a zone's keys. The `{ZONE}` hash tag keeps a call's keys
/// in one slot, so a call works on a Redis Cluster too. `TIME` before writes needs effects
/// replication, which Redis 5 and later use (and 7 always).
enum SharedZoneScript {
    static let source = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local interval = tonumber(ARGV[1])
        local out = {}
        for i, key in ipairs(KEYS) do
          local n = tonumber(ARGV[i + 1])
          local tat = tonumber(redis.call('GET', key) or '0')
          if tat < now then tat = now end
          if n < 0 then
            local ahead = tat - now
            if ahead > -n - 1 then
              out[i] = -math.ceil(ahead)
            else
              tat = tat + interval
              redis.call('SET', key, string.format('%.0f', tat), 'PX', math.max(1, math.ceil((tat - now) / 1000)))
              out[i] = math.ceil(ahead)
            end
          else
            if n > 0 then
              tat = tat + n * interval
              redis.call('SET', key, string.format('%.0f', tat), 'PX', math.max(1, math.ceil((tat - now) / 1000)))
            end
            out[i] = math.ceil(tat - now)
          end
        end
        return out
        """

    /// The key prefix of every client key (before `{ZONE}:`).
    static let keyPrefix = "homerack:rl:"

    /// Keys per script call; a batch is several calls, pipelined.
    static let keysPerCall = 256

    /// `interval` nanoseconds as microseconds with three decimals, as the script reads `ARGV[1]`.
    static func intervalArgument(nanoseconds interval: UInt64) -> String {
        let fraction = String(interval % 1000)
        return "\(interval / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
