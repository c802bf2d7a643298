import Limits

/// The Lua script that charges a batch to the zone's global state in Redis, atomically.
///
/// Per client it keeps one key, `homerack:rl:{ZONE}:CLIENT`, holding the client's theoretical
/// arrival time (TAT) in microseconds on Redis's own clock (`TIME`): edges' monotonic clocks
/// are not comparable, so only durations ("ahead of now by …") cross the wire. For each key it
/// does GCRA's update for `n` admissions, `tat = max(tat, now) + n × interval`, sets the key to
/// expire when the bucket has drained (its TTL is `tat − now`), and answers `tat − now` in
/// microseconds. `n = 0` only reads (a refresh). Nothing is refused here: in batched mode the
/// edges already admitted what they report, and a client over its limit carries the excess as
/// a TAT further ahead, which every edge then refuses until it drains.
///
/// The `{ZONE}` hash tag keeps a batch's keys in one slot, so a batch is one script call even
/// on a Redis Cluster. `TIME` before writes needs effects replication, which Redis 5 and later
/// use (and 7 always).
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
          if n > 0 then
            tat = tat + n * interval
            redis.call('SET', key, string.format('%.0f', tat), 'PX', math.max(1, math.ceil((tat - now) / 1000)))
          end
          out[i] = math.ceil(tat - now)
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

    /// The Redis key of `client` in `zone` (the client's address text; an IPv6 client keyed by
    /// its /64 is the network's address, ending in `::`).
    static func key(zone: String, client: ClientKey) -> String {
        "\(keyPrefix){\(zone)}:\(client)"
    }
}
