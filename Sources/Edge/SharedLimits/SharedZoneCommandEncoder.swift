import Limits

/// Writes a round trip's script calls straight into one buffer in Redis's wire format (RESP),
/// for `redisAppendFormattedCommand`: no `String` per client key, no argument vector for hiredis
/// to format and copy again. A batch of thousands of clients costs one buffer, reused from one
/// sync to the next.
///
/// Every ``SharedZoneScript/keysPerCall`` clients make one `EVALSHA` (keys, then the interval,
/// then one argument per key); the calls are pipelined.
struct SharedZoneCommandEncoder {
    /// What the script does with one key (see ``SharedZoneScript``).
    enum Argument: Equatable {
        /// Batched: charge `admitted` requests this edge admitted (0: only read the state).
        case charge(UInt32)
        /// Strict: admit one request unless the client is more than `tolerance` nanoseconds
        /// ahead of the steady rate.
        case decide(tolerance: UInt64)
    }

    private(set) var bytes: [UInt8] = []
    /// Script calls written (each answers one array).
    private(set) var calls = 0
    /// Keys written (each answers one integer).
    private(set) var keys = 0
    private var chunkKeys: [ClientKey] = []
    private var chunkArguments: [Argument] = []
    private var sha: [UInt8] = []
    private var keyPrefix: [UInt8] = []
    private var interval: [UInt8] = []

    /// Starts a round trip for `zone` (its rate's `interval` in nanoseconds) with script `sha`.
    mutating func start(sha: String, zone: String, interval: UInt64) {
        bytes.removeAll(keepingCapacity: true)
        chunkKeys.removeAll(keepingCapacity: true)
        chunkArguments.removeAll(keepingCapacity: true)
        calls = 0
        keys = 0
        self.sha = Array(sha.utf8)
        keyPrefix = Array("\(SharedZoneScript.keyPrefix){\(zone)}:".utf8)
        self.interval = Array(SharedZoneScript.intervalArgument(nanoseconds: interval).utf8)
    }

    mutating func add(_ key: ClientKey, _ argument: Argument) {
        chunkKeys.append(key)
        chunkArguments.append(argument)
        keys += 1
        if chunkKeys.count == SharedZoneScript.keysPerCall { flushChunk() }
    }

    /// Ends the round trip's last call; ``bytes`` is then complete.
    mutating func finish() {
        if !chunkKeys.isEmpty { flushChunk() }
    }

    private mutating func flushChunk() {
        let count = chunkKeys.count
        header(3 + count + 1 + count)
        bulk(Array("EVALSHA".utf8))
        bulk(sha)
        bulk(decimal: UInt64(count))
        for key in chunkKeys { bulkKey(key) }
        bulk(interval)
        for argument in chunkArguments {
            switch argument {
            case .charge(let admitted):
                bulk(decimal: UInt64(admitted))
            case .decide(let tolerance):
                // Negative asks for a decision; the script reads its tolerance as −n − 1 µs.
                bulk(Array(("-" + SharedZoneScript.intervalArgument(nanoseconds: tolerance &+ 1000)).utf8))
            }
        }
        calls += 1
        chunkKeys.removeAll(keepingCapacity: true)
        chunkArguments.removeAll(keepingCapacity: true)
    }

    private mutating func header(_ count: Int) {
        bytes.append(UInt8(ascii: "*"))
        appendDecimal(UInt64(count))
        crlf()
    }

    private mutating func bulk(_ value: [UInt8]) {
        bytes.append(UInt8(ascii: "$"))
        appendDecimal(UInt64(value.count))
        crlf()
        bytes += value
        crlf()
    }

    private mutating func bulk(decimal value: UInt64) {
        bytes.append(UInt8(ascii: "$"))
        appendDecimal(UInt64(Self.decimalLength(value)))
        crlf()
        appendDecimal(value)
        crlf()
    }

    /// `homerack:rl:{ZONE}:ADDRESS`; IPv4 addresses (the common case) without a `String`.
    private mutating func bulkKey(_ key: ClientKey) {
        bytes.append(UInt8(ascii: "$"))
        if key.isIPv4 {
            let v4 = UInt32(truncatingIfNeeded: key.low)
            let (a, b, c, d) = (UInt64(v4 >> 24), UInt64(v4 >> 16 & 0xFF), UInt64(v4 >> 8 & 0xFF), UInt64(v4 & 0xFF))
            let length = keyPrefix.count + 3 + Self.decimalLength(a) + Self.decimalLength(b) + Self.decimalLength(c)
                + Self.decimalLength(d)
            appendDecimal(UInt64(length))
            crlf()
            bytes += keyPrefix
            appendDecimal(a)
            bytes.append(UInt8(ascii: "."))
            appendDecimal(b)
            bytes.append(UInt8(ascii: "."))
            appendDecimal(c)
            bytes.append(UInt8(ascii: "."))
            appendDecimal(d)
        } else {
            let text = Array(key.description.utf8)
            appendDecimal(UInt64(keyPrefix.count + text.count))
            crlf()
            bytes += keyPrefix
            bytes += text
        }
        crlf()
    }

    private mutating func crlf() {
        bytes.append(13)
        bytes.append(10)
    }

    private mutating func appendDecimal(_ value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        let start = bytes.count
        var rest = value
        while rest > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        }
        bytes[start...].reverse()
    }

    private static func decimalLength(_ value: UInt64) -> Int {
        var length = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            length += 1
        }
        return length
    }
}
