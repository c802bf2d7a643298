/// A per-loop pool of fixed-size byte chunks, handed out as small integer handles.
///
/// Chunks live in slabs allocated once and kept for the loop's life; acquiring and releasing
/// is a push/pop on a LIFO free list (the most recently used chunk is the warmest in cache),
/// never a heap allocation once the pool has grown to the loop's working set. Each chunk has
/// a `start..<end` window of valid bytes and a `next` link, so a connection's queued output is
/// a chain of chunks. Not thread-safe: one pool per loop thread.
public struct BufferPool {
    public let chunkSize: Int
    @usableFromInline let chunksPerSlab: Int
    @usableFromInline var slabs: [UnsafeMutableRawPointer]
    @usableFromInline var freeList: [Int32]
    @usableFromInline var starts: [Int32]
    @usableFromInline var ends: [Int32]
    @usableFromInline var nexts: [Int32]
    /// Chunks currently handed out.
    @inlinable public var inUse: Int { _inUse }
    @usableFromInline var _inUse: Int

    /// - Parameters:
    ///   - chunkSize: bytes per chunk.
    ///   - chunksPerSlab: chunks allocated together when the pool grows.
    public init(chunkSize: Int = 16 * 1024, chunksPerSlab: Int = 64) {
        precondition(chunkSize > 0 && chunkSize <= Int(Int32.max) && chunksPerSlab > 0)
        self.chunkSize = chunkSize
        self.chunksPerSlab = chunksPerSlab
        slabs = []
        freeList = []
        starts = []
        ends = []
        nexts = []
        _inUse = 0
    }

    /// Chunks allocated (in use or free).
    public var capacity: Int { starts.count }

    /// Takes a chunk with an empty window and no successor.
    @inlinable
    public mutating func acquire() -> Int32 {
        if freeList.isEmpty { grow() }
        let chunk = freeList.removeLast()
        starts[Int(chunk)] = 0
        ends[Int(chunk)] = 0
        nexts[Int(chunk)] = -1
        _inUse += 1
        return chunk
    }

    /// Returns a chunk to the pool.
    @inlinable
    public mutating func release(_ chunk: Int32) {
        freeList.append(chunk)
        _inUse -= 1
    }

    /// Releases a chain of chunks linked by ``next(_:)``.
    @inlinable
    public mutating func releaseChain(_ head: Int32) {
        var cursor = head
        while cursor >= 0 {
            let next = nexts[Int(cursor)]
            release(cursor)
            cursor = next
        }
    }

    /// The first byte of a chunk's memory.
    @inlinable
    public func base(_ chunk: Int32) -> UnsafeMutableRawPointer {
        let index = Int(chunk)
        return slabs[index / chunksPerSlab] + (index % chunksPerSlab) * chunkSize
    }

    @inlinable public func start(_ chunk: Int32) -> Int { Int(starts[Int(chunk)]) }
    @inlinable public func end(_ chunk: Int32) -> Int { Int(ends[Int(chunk)]) }
    @inlinable public func next(_ chunk: Int32) -> Int32 { nexts[Int(chunk)] }
    @inlinable public mutating func setStart(_ chunk: Int32, _ value: Int) { starts[Int(chunk)] = Int32(value) }
    @inlinable public mutating func setEnd(_ chunk: Int32, _ value: Int) { ends[Int(chunk)] = Int32(value) }
    @inlinable public mutating func setNext(_ chunk: Int32, _ value: Int32) { nexts[Int(chunk)] = value }

    @usableFromInline
    mutating func grow() {
        let first = starts.count
        let slab = UnsafeMutableRawPointer.allocate(byteCount: chunkSize * chunksPerSlab, alignment: 64)
        slabs.append(slab)
        starts.append(contentsOf: repeatElement(0, count: chunksPerSlab))
        ends.append(contentsOf: repeatElement(0, count: chunksPerSlab))
        nexts.append(contentsOf: repeatElement(-1, count: chunksPerSlab))
        freeList.reserveCapacity(starts.count)
        // Pushed in reverse so the lowest-numbered chunk is handed out first.
        for chunk in stride(from: first + chunksPerSlab - 1, through: first, by: -1) {
            freeList.append(Int32(chunk))
        }
    }

    /// Frees every slab. The pool must not be used afterwards.
    public mutating func deallocate() {
        for slab in slabs { slab.deallocate() }
        slabs = []
        freeList = []
        starts = []
        ends = []
        nexts = []
        _inUse = 0
    }
}
