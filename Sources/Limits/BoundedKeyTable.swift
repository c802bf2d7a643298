/// A fixed-capacity hash table from ``ClientKey`` to a small value, with least-recently-used order.
///
/// This is the one storage mechanism under both limiters. Everything is allocated up front
/// from the configured capacity, so memory is bounded no matter how many distinct clients
/// arrive (a flood of a million addresses costs exactly what the capacity costs), and there is
/// no allocation on the hot path. The caller decides what to do when it is full: the rate
/// limiter evicts the least recently used entry, the connection limiter refuses.
///
/// Layout: entries live in parallel arrays indexed by a slot number; an open-addressing index
/// (linear probing, at most half full, backward-shift deletion so there are no tombstones)
/// maps a key's hash to its slot; a doubly linked list through the slots keeps LRU order.
/// Per entry that is 16 bytes of key, the value, 8 bytes of list links and 8 to 16 bytes of
/// index.
///
/// Not thread-safe: each shard of a limiter owns one table behind its own lock.
struct BoundedKeyTable<Value: BitwiseCopyable & Sendable>: Sendable {
    typealias Slot = Int32
    static var none: Slot { -1 }

    private var keyHigh: [UInt64]
    private var keyLow: [UInt64]
    private var values: [Value]
    /// LRU list: `older[slot]` / `newer[slot]`; free slots are chained through `newer`.
    private var older: [Slot]
    private var newer: [Slot]
    private var index: [Slot]
    private let indexMask: Int
    private let seed: UInt64

    private var newest: Slot = none
    private var oldest: Slot = none
    private var freeHead: Slot
    private(set) var count = 0
    let capacity: Int

    /// - Parameters:
    ///   - capacity: how many keys the table holds at most (at least 1).
    ///   - placeholder: the value unused slots hold.
    ///   - seed: hashing seed; a random one keeps an attacker from choosing colliding addresses.
    init(capacity: Int, placeholder: Value, seed: UInt64) {
        precondition(capacity >= 1 && capacity <= Int(Int32.max) / 4)
        self.capacity = capacity
        self.seed = seed
        keyHigh = Array(repeating: 0, count: capacity)
        keyLow = Array(repeating: 0, count: capacity)
        values = Array(repeating: placeholder, count: capacity)
        older = Array(repeating: Self.none, count: capacity)
        newer = (0..<capacity).map { $0 + 1 < capacity ? Slot($0 + 1) : Self.none }
        freeHead = 0
        var indexSize = 2
        while indexSize < capacity * 2 { indexSize <<= 1 }
        index = Array(repeating: Self.none, count: indexSize)
        indexMask = indexSize - 1
    }

    /// Bytes this table allocated for `capacity` keys (arrays only, not their headers).
    var allocatedBytes: Int {
        capacity * (2 * MemoryLayout<UInt64>.stride + MemoryLayout<Value>.stride + 2 * MemoryLayout<Slot>.stride)
            + index.count * MemoryLayout<Slot>.stride
    }

    var isFull: Bool { count == capacity }

    /// The least recently used entry, if any.
    var oldestSlot: Slot? { oldest == Self.none ? nil : oldest }

    /// The entry used next after `slot`, for walking the table from the oldest entry to the
    /// newest (read it before removing `slot`).
    func slot(after slot: Slot) -> Slot? {
        let next = newer[Int(slot)]
        return next == Self.none ? nil : next
    }

    @inline(__always)
    func hash(_ key: ClientKey) -> UInt64 {
        Self.hash(key, seed: seed)
    }

    /// A seeded 64-bit mix of the key (the multiply-fold of wyhash); shards use the high bits,
    /// the index the low bits.
    @inline(__always)
    static func hash(_ key: ClientKey, seed: UInt64) -> UInt64 {
        let product = (key.high ^ seed ^ 0xA076_1D64_78BD_642F).multipliedFullWidth(by: key.low ^ 0xE703_7ED1_A0B4_28DB)
        let folded = product.high ^ product.low
        let second = (folded ^ seed).multipliedFullWidth(by: 0x8EBC_6AF0_9C88_C6E3)
        return second.high ^ second.low
    }

    /// The slot holding `key`, if present.
    @inline(__always)
    func find(_ key: ClientKey) -> Slot? {
        var position = Int(truncatingIfNeeded: hash(key)) & indexMask
        while true {
            let slot = index[position]
            if slot == Self.none { return nil }
            if keyLow[Int(slot)] == key.low, keyHigh[Int(slot)] == key.high { return slot }
            position = (position + 1) & indexMask
        }
    }

    @inline(__always)
    func value(at slot: Slot) -> Value { values[Int(slot)] }

    @inline(__always)
    mutating func setValue(_ value: Value, at slot: Slot) { values[Int(slot)] = value }

    func key(at slot: Slot) -> ClientKey {
        ClientKey(ipv6High: keyHigh[Int(slot)], low: keyLow[Int(slot)])
    }

    /// Inserts a key that is not present, as the most recently used entry.
    /// - Returns: its slot, or `nil` when the table is full.
    mutating func insert(_ key: ClientKey, value: Value) -> Slot? {
        guard freeHead != Self.none else { return nil }
        let slot = freeHead
        freeHead = newer[Int(slot)]
        keyHigh[Int(slot)] = key.high
        keyLow[Int(slot)] = key.low
        values[Int(slot)] = value
        var position = Int(truncatingIfNeeded: hash(key)) & indexMask
        while index[position] != Self.none { position = (position + 1) & indexMask }
        index[position] = slot
        linkAsNewest(slot)
        count += 1
        return slot
    }

    /// Marks an entry as the most recently used.
    @inline(__always)
    mutating func touch(_ slot: Slot) {
        guard slot != newest else { return }
        unlink(slot)
        linkAsNewest(slot)
    }

    /// Removes the entry in `slot`.
    mutating func remove(_ slot: Slot) {
        // Find the index position of this slot, then close the gap (backward-shift deletion).
        var hole = Int(truncatingIfNeeded: hash(key(at: slot))) & indexMask
        while index[hole] != slot { hole = (hole + 1) & indexMask }
        var probe = hole
        while true {
            probe = (probe + 1) & indexMask
            let moving = index[probe]
            if moving == Self.none { break }
            let home = Int(truncatingIfNeeded: hash(key(at: moving))) & indexMask
            // Move `moving` into the hole unless its home lies cyclically in (hole, probe].
            let homeInRange = hole <= probe ? (home > hole && home <= probe) : (home > hole || home <= probe)
            if !homeInRange {
                index[hole] = moving
                hole = probe
            }
        }
        index[hole] = Self.none
        unlink(slot)
        newer[Int(slot)] = freeHead
        freeHead = slot
        count -= 1
    }

    private mutating func linkAsNewest(_ slot: Slot) {
        older[Int(slot)] = newest
        newer[Int(slot)] = Self.none
        if newest != Self.none { newer[Int(newest)] = slot } else { oldest = slot }
        newest = slot
    }

    private mutating func unlink(_ slot: Slot) {
        let before = older[Int(slot)]
        let after = newer[Int(slot)]
        if before != Self.none { newer[Int(before)] = after } else { oldest = after }
        if after != Self.none { older[Int(after)] = before } else { newest = before }
    }
}
