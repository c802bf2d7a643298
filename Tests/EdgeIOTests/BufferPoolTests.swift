import Testing

@testable import EdgeIO

struct BufferPoolTests {
    @Test func releasedChunkIsTheNextOneHandedOut() {
        var pool = BufferPool(chunkSize: 1024, chunksPerSlab: 4)
        defer { pool.deallocate() }
        let a = pool.acquire()
        let b = pool.acquire()
        pool.release(a)
        #expect(pool.acquire() == a)
        #expect(pool.inUse == 2)
        #expect(b != a)
    }

    @Test func growsBySlabsAndChunksDoNotOverlap() {
        var pool = BufferPool(chunkSize: 256, chunksPerSlab: 2)
        defer { pool.deallocate() }
        let chunks = (0..<5).map { _ in pool.acquire() }
        #expect(pool.capacity == 6)
        for (i, chunk) in chunks.enumerated() {
            pool.base(chunk).initializeMemory(as: UInt8.self, repeating: UInt8(i), count: 256)
        }
        for (i, chunk) in chunks.enumerated() {
            let bytes = UnsafeRawBufferPointer(start: pool.base(chunk), count: 256)
            #expect(bytes.allSatisfy { $0 == UInt8(i) })
        }
    }

    @Test func releasingAChainReturnsEveryChunk() {
        var pool = BufferPool(chunkSize: 64, chunksPerSlab: 8)
        defer { pool.deallocate() }
        let head = pool.acquire()
        let middle = pool.acquire()
        let tail = pool.acquire()
        pool.setNext(head, middle)
        pool.setNext(middle, tail)
        pool.releaseChain(head)
        #expect(pool.inUse == 0)
    }
}

struct LoopIOLayoutTests {
    /// A connection's slot stays a few dozen bytes: no class, no buffer while idle.
    @Test func connectionSlotIsCompact() {
        #expect(MemoryLayout<LoopIO.Slot>.stride <= 64)
    }
}
