/// Identifies one armed timer of a ``TimingWheel``: a node index and the generation it was
/// armed in, so cancelling a timer that has already fired (and whose node was reused) does
/// nothing.
public struct TimerID: Hashable, Sendable, CustomStringConvertible {
    public let index: UInt32
    public let generation: UInt32

    @inlinable
    init(index: UInt32, generation: UInt32) {
        self.index = index
        self.generation = generation
    }

    public var description: String { "timer(\(index)#\(generation))" }
}

/// A hierarchical timing wheel: six levels of 64 slots each, O(1) arm and cancel, firing in
/// deadline order. Pure: it never reads a clock. Deadlines and `now` are ticks (the event loop
/// uses milliseconds since it started); the caller asks ``nextDeadline`` to size its wait and
/// calls ``advance(to:into:)`` with the time it read.
///
/// A timer sits on the level given by the highest bit in which its deadline differs from the
/// wheel's current time (`elapsed`), in the slot given by the deadline's six bits at that
/// level. Reaching a slot of level 0 fires its timers; reaching a slot of a higher level moves
/// its timers down. Each timer moves at most five times in its life. Deadlines more than 2^36
/// ticks (2.2 years of milliseconds) ahead, in a later 2^36 block, wait in an overflow list.
public struct TimingWheel {
    /// One fired timer.
    public struct Expired: Hashable, Sendable {
        @inlinable
        init(id: TimerID, payload: UInt64, deadline: UInt64) {
            self.id = id
            self.payload = payload
            self.deadline = deadline
        }

        public let id: TimerID
        /// The value given to ``TimingWheel/arm(at:payload:)`` (the event loop's handlers
        /// pack a connection index and a timer kind into it).
        public let payload: UInt64
        public let deadline: UInt64
    }

    @usableFromInline static let levelBits = 6
    @usableFromInline static let slotsPerLevel = 64
    @usableFromInline static let levelCount = 6
    /// Ticks covered by the wheel's levels: deadlines in a later block of this size overflow.
    @usableFromInline static let wheelBits = levelBits * levelCount
    @usableFromInline static let free: Int32 = -1
    @usableFromInline static let overflow: Int32 = -2

    @usableFromInline
    struct Node {
        @usableFromInline var deadline: UInt64
        @usableFromInline var payload: UInt64
        @usableFromInline var prev: Int32
        @usableFromInline var next: Int32
        @usableFromInline var generation: UInt32
        /// `level * 64 + slot`, or ``TimingWheel/overflow``, or ``TimingWheel/free``.
        @usableFromInline var bucket: Int32

        @inlinable
        init() {
            deadline = 0
            payload = 0
            prev = -1
            next = -1
            generation = 0
            bucket = TimingWheel.free
        }
    }

    /// The wheel's current time: every armed timer's deadline is later than its slot's start.
    @inlinable public var elapsed: UInt64 { _elapsed }
    @usableFromInline var _elapsed: UInt64
    @usableFromInline var heads: [Int32]
    @usableFromInline var occupied: [UInt64]
    @usableFromInline var nodes: [Node]
    @usableFromInline var freeHead: Int32
    @usableFromInline var overflowHead: Int32
    /// How many timers are armed.
    @inlinable public var count: Int { _count }
    @usableFromInline var _count: Int

    /// - Parameters:
    ///   - now: the wheel's starting time in ticks.
    ///   - capacity: timer nodes allocated up front (the wheel grows past it when needed).
    public init(now: UInt64 = 0, capacity: Int = 1024) {
        _elapsed = now
        heads = Array(repeating: -1, count: Self.levelCount * Self.slotsPerLevel)
        occupied = Array(repeating: 0, count: Self.levelCount)
        nodes = []
        nodes.reserveCapacity(capacity)
        freeHead = -1
        overflowHead = -1
        _count = 0
    }

    /// Arms a timer.
    /// - Parameters:
    ///   - deadline: when it fires, in ticks; a deadline at or before ``elapsed`` fires on the
    ///     next ``advance(to:into:)``.
    ///   - payload: returned with the timer when it fires.
    /// - Returns: the timer's id, for ``cancel(_:)``.
    @inlinable
    public mutating func arm(at deadline: UInt64, payload: UInt64) -> TimerID {
        let index: Int32
        if freeHead >= 0 {
            index = freeHead
            freeHead = nodes[Int(index)].next
        } else {
            index = Int32(nodes.count)
            nodes.append(Node())
        }
        nodes[Int(index)].deadline = deadline
        nodes[Int(index)].payload = payload
        place(index)
        _count += 1
        return TimerID(index: UInt32(index), generation: nodes[Int(index)].generation)
    }

    /// Cancels a timer.
    /// - Returns: `false` when the timer had already fired or been cancelled.
    @inlinable
    @discardableResult
    public mutating func cancel(_ id: TimerID) -> Bool {
        let index = Int32(truncatingIfNeeded: id.index)
        guard index >= 0, Int(index) < nodes.count, nodes[Int(index)].generation == id.generation,
            nodes[Int(index)].bucket != Self.free
        else { return false }
        unlink(index)
        release(index)
        _count -= 1
        return true
    }

    /// Whether a timer is still armed.
    @inlinable
    public func isArmed(_ id: TimerID) -> Bool {
        let index = Int(id.index)
        return index < nodes.count && nodes[index].generation == id.generation && nodes[index].bucket != Self.free
    }

    /// The earliest time at which ``advance(to:into:)`` has work: a timer's deadline, or the
    /// start of a higher-level slot whose timers must move down (never later than the
    /// earliest deadline). `nil` when no timer is armed.
    @inlinable
    public var nextDeadline: UInt64? {
        for level in 0..<Self.levelCount where occupied[level] != 0 {
            return slotStart(level: level, slot: occupied[level].trailingZeroBitCount)
        }
        guard overflowHead >= 0 else { return nil }
        var earliest = UInt64.max
        var cursor = overflowHead
        while cursor >= 0 {
            earliest = min(earliest, nodes[Int(cursor)].deadline)
            cursor = nodes[Int(cursor)].next
        }
        return earliest
    }

    /// Moves the wheel to `now` and appends the timers that fired, in deadline order, to
    /// `expired` (which the caller reuses, so a steady loop allocates nothing).
    @inlinable
    public mutating func advance(to now: UInt64, into expired: inout [Expired]) {
        while true {
            var found = false
            for level in 0..<Self.levelCount where occupied[level] != 0 {
                let slot = occupied[level].trailingZeroBitCount
                let start = slotStart(level: level, slot: slot)
                if start <= now {
                    found = true
                    runSlot(level: level, slot: slot, start: start, into: &expired)
                }
                break
            }
            if found { continue }
            // The levels hold nothing due. Overflowed timers become due only in a later block.
            if overflowHead >= 0, let next = nextDeadline, next <= now {
                _elapsed = (next >> UInt64(Self.wheelBits)) << UInt64(Self.wheelBits)
                replaceOverflow()
                continue
            }
            break
        }
        if now > elapsed {
            let blockChanged = (now >> UInt64(Self.wheelBits)) != (elapsed >> UInt64(Self.wheelBits))
            _elapsed = now
            if blockChanged { replaceOverflow() }
        }
    }

    /// ``advance(to:into:)`` returning a new array: for tests and rare callers.
    public mutating func advance(to now: UInt64) -> [Expired] {
        var expired: [Expired] = []
        advance(to: now, into: &expired)
        return expired
    }

    // MARK: - Internals

    @inlinable
    func slotStart(level: Int, slot: Int) -> UInt64 {
        let shift = UInt64(Self.levelBits * level)
        let above = shift + UInt64(Self.levelBits)
        return ((elapsed >> above) << above) | (UInt64(slot) << shift)
    }

    @inlinable
    mutating func runSlot(level: Int, slot: Int, start: UInt64, into expired: inout [Expired]) {
        let bucket = level * Self.slotsPerLevel + slot
        var cursor = heads[bucket]
        heads[bucket] = -1
        occupied[level] &= ~(UInt64(1) << UInt64(slot))
        _elapsed = max(elapsed, start)
        while cursor >= 0 {
            let next = nodes[Int(cursor)].next
            if level == 0 {
                let node = nodes[Int(cursor)]
                expired.append(
                    Expired(
                        id: TimerID(index: UInt32(cursor), generation: node.generation),
                        payload: node.payload, deadline: node.deadline))
                release(cursor)
                _count -= 1
            } else {
                place(cursor)
            }
            cursor = next
        }
    }

    @inlinable
    mutating func place(_ index: Int32) {
        let deadline = max(nodes[Int(index)].deadline, elapsed)
        let masked = (elapsed ^ deadline) | UInt64(Self.slotsPerLevel - 1)
        let significant = 63 - masked.leadingZeroBitCount
        let level = significant / Self.levelBits
        let bucket: Int32
        if level >= Self.levelCount {
            bucket = Self.overflow
            overflowHead = push(index, onto: overflowHead)
        } else {
            let slot = Int((deadline >> UInt64(level * Self.levelBits)) & UInt64(Self.slotsPerLevel - 1))
            bucket = Int32(level * Self.slotsPerLevel + slot)
            heads[Int(bucket)] = push(index, onto: heads[Int(bucket)])
            occupied[level] |= UInt64(1) << UInt64(slot)
        }
        nodes[Int(index)].bucket = bucket
    }

    /// Puts `index` in front of the list starting at `head`; returns the new head.
    @inlinable
    mutating func push(_ index: Int32, onto head: Int32) -> Int32 {
        nodes[Int(index)].prev = -1
        nodes[Int(index)].next = head
        if head >= 0 { nodes[Int(head)].prev = index }
        return index
    }

    @inlinable
    mutating func unlink(_ index: Int32) {
        let node = nodes[Int(index)]
        if node.next >= 0 { nodes[Int(node.next)].prev = node.prev }
        if node.prev >= 0 {
            nodes[Int(node.prev)].next = node.next
        } else if node.bucket == Self.overflow {
            overflowHead = node.next
        } else {
            heads[Int(node.bucket)] = node.next
            if node.next < 0 {
                let level = Int(node.bucket) / Self.slotsPerLevel
                let slot = Int(node.bucket) % Self.slotsPerLevel
                occupied[level] &= ~(UInt64(1) << UInt64(slot))
            }
        }
    }

    @inlinable
    mutating func release(_ index: Int32) {
        nodes[Int(index)].bucket = Self.free
        nodes[Int(index)].generation &+= 1
        nodes[Int(index)].prev = -1
        nodes[Int(index)].next = freeHead
        freeHead = index
    }

    @usableFromInline
    mutating func replaceOverflow() {
        var cursor = overflowHead
        overflowHead = -1
        while cursor >= 0 {
            let next = nodes[Int(cursor)].next
            place(cursor)
            cursor = next
        }
    }
}
