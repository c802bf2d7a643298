import CEdgeZlib
import EdgeRules
import Synchronization

/// The deflate states of one loop's gzipped responses, and the buffer their output goes
/// through.
///
/// A deflate state is large (up to 256 KiB with a 2^15 window), so an exchange holds one only
/// while its compressed response is in flight: attached when the response head is relayed,
/// given back when the exchange ends however it ends (complete, client gone, upstream cut
/// short, stream reset), then kept for the next response (reset, not made again: no
/// allocation per response once warm), up to ``idlePerWindow`` idle ones per window size; the
/// rest are freed. Windows follow nginx's choice for a known length
/// (``ResponseCompression/window(forLength:)``), each size with its own idle list.
///
/// Output goes to one per-loop scratch buffer with room before and after it, so the core
/// frames a chunk around it in place (``frameChunk(_:last:)``) and writes it in one call.
final class GzipStreamPool {
    /// Deflate states attached to responses in flight, over every loop of the process (tests
    /// check that every path gives them back).
    static let live = Atomic<Int>(0)

    /// nginx's default `gzip_comp_level`: on a 20 KB JSON answer, level 6 (zlib's default, what
    /// the edge used before its core) took about 7 times the CPU of level 1 for an output 22 % smaller
    /// (docs/BENCHMARKS.md, "Compression").
    static var level: Int32 { 1 }
    /// Idle deflate states kept per window size.
    static var idlePerWindow: Int { 4 }
    /// Room before the output for a chunk's size line, and after it for its CRLF and the last
    /// chunk.
    static var headroom: Int { 16 }
    static var tailroom: Int { 16 }
    /// Output bytes gathered before they are written (a response's output beyond it goes out
    /// in several writes).
    static var outputCapacity: Int { 32 * 1024 }

    struct Attached {
        var deflater: OpaquePointer?
        var windowBits: Int32
    }

    /// Idle deflaters by window size (`windowBits - 9`) and `memLevel` as the window sets it.
    private var idle: [[OpaquePointer]] = Array(repeating: [], count: 7)
    /// By entry slot: the deflater of the response that slot carries.
    private var attached: [Attached] = []
    /// Deflaters attached on this loop.
    private(set) var inUse = 0
    private var scratch: UnsafeMutableRawPointer?
    /// Output in the scratch buffer not handed out yet.
    private var pending = 0

    init() {}

    deinit {
        for list in idle { for deflater in list { cez_deflater_free(deflater) } }
        for entry in attached { if let deflater = entry.deflater { cez_deflater_free(deflater) } }
        if inUse > 0 { Self.live.subtract(inUse, ordering: .relaxed) }
        scratch?.deallocate()
    }

    /// Attaches a deflater to `slot` for a body of `contentLength` bytes (-1: unknown).
    /// - Returns: `false` when zlib could not allocate one (the response goes uncompressed).
    func attach(_ slot: Int, contentLength: Int) -> Bool {
        let (windowBits, memLevel) = ResponseCompression.window(forLength: contentLength)
        let list = Int(windowBits) - 9
        let deflater: OpaquePointer
        if let reused = idle[list].popLast() {
            guard cez_deflater_reset(reused) == CEZ_OK else {
                cez_deflater_free(reused)
                return false
            }
            deflater = reused
        } else {
            guard let made = cez_deflater_new(Self.level, windowBits, memLevel) else { return false }
            deflater = made
        }
        if scratch == nil {
            scratch = .allocate(byteCount: Self.headroom + Self.outputCapacity + Self.tailroom, alignment: 16)
        }
        while attached.count <= slot { attached.append(Attached(deflater: nil, windowBits: 0)) }
        // A deflater still attached here is one an ended exchange did not give back: a bug that
        // tests catch (debug builds stop here); a release build gives it back and goes on.
        assert(attached[slot].deflater == nil, "a deflater attached to slot \(slot) twice")
        release(slot)
        attached[slot] = Attached(deflater: deflater, windowBits: windowBits)
        inUse += 1
        Self.live.add(1, ordering: .relaxed)
        return true
    }

    /// Gives `slot`'s deflater back (kept idle for the next response, or freed).
    func release(_ slot: Int) {
        guard slot < attached.count, let deflater = attached[slot].deflater else { return }
        let list = Int(attached[slot].windowBits) - 9
        attached[slot].deflater = nil
        inUse -= 1
        Self.live.subtract(1, ordering: .relaxed)
        if idle[list].count < Self.idlePerWindow {
            idle[list].append(deflater)
        } else {
            cez_deflater_free(deflater)
        }
    }

    /// Deflaters kept idle on this loop.
    var idleCount: Int { idle.reduce(0) { $0 + $1.count } }

    /// Compresses `input` for `slot`'s response; `emit` gets the output each time the scratch
    /// buffer fills (the rest waits for ``flush(_:finish:emit:)``).
    /// - Parameter emit: the output (in the scratch buffer, with ``headroom`` before it and
    ///   ``tailroom`` after it), and whether it ends the gzip member.
    func deflate(_ slot: Int, _ input: UnsafeRawBufferPointer, emit: (UnsafeMutableRawBufferPointer, Bool) -> Void) {
        guard !input.isEmpty else { return }
        run(slot, input, flush: CEZ_NO_FLUSH, emit: emit)
    }

    /// Sends what `slot`'s deflater holds: a sync flush (the client gets everything read so
    /// far: a streamed response reaches it as it comes), or with `finish` the member's end and
    /// the gzip trailer.
    func flush(_ slot: Int, finish: Bool, emit: (UnsafeMutableRawBufferPointer, Bool) -> Void) {
        run(slot, UnsafeRawBufferPointer(start: nil, count: 0), flush: finish ? CEZ_FINISH : CEZ_SYNC_FLUSH, emit: emit)
    }

    private func run(
        _ slot: Int, _ input: UnsafeRawBufferPointer, flush: Int32, emit: (UnsafeMutableRawBufferPointer, Bool) -> Void
    ) {
        guard slot < attached.count, let deflater = attached[slot].deflater, let scratch else { return }
        let output = scratch + Self.headroom
        var offset = 0
        while true {
            var consumed = 0
            var produced = 0
            let code = cez_deflate(
                deflater, input.baseAddress.map { $0 + offset }, input.count - offset, &consumed, output + pending,
                Self.outputCapacity - pending, &produced, flush)
            offset += consumed
            pending += produced
            let full = pending == Self.outputCapacity
            let done: Bool
            if code != CEZ_OK && code != CEZ_STREAM_END {
                done = true  // no progress possible (Z_BUF_ERROR): nothing more to give
            } else if flush == CEZ_FINISH {
                done = code == CEZ_STREAM_END
            } else if flush == CEZ_SYNC_FLUSH {
                done = !full
            } else {
                done = offset == input.count && !full
            }
            if full || (done && flush != CEZ_NO_FLUSH && pending > 0) {
                emit(UnsafeMutableRawBufferPointer(start: output, count: pending), done && flush == CEZ_FINISH)
                pending = 0
            }
            if done { return }
        }
    }

    /// Frames `output` (as ``deflate(_:_:emit:)`` handed it) as one chunk of the chunked
    /// coding in place, followed by the last chunk when `last`.
    static func frameChunk(_ output: UnsafeMutableRawBufferPointer, last: Bool) -> UnsafeRawBufferPointer {
        guard let base = output.baseAddress, !output.isEmpty else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        var digits = 0
        var size = output.count
        repeat {
            digits += 1
            size >>= 4
        } while size > 0
        let start = base - digits - 2
        size = output.count
        for i in stride(from: digits - 1, through: 0, by: -1) {
            let nibble = UInt8(truncatingIfNeeded: size & 0xf)
            start.storeBytes(of: nibble < 10 ? 48 + nibble : 87 + nibble, toByteOffset: i, as: UInt8.self)
            size >>= 4
        }
        start.storeBytes(of: 13, toByteOffset: digits, as: UInt8.self)
        start.storeBytes(of: 10, toByteOffset: digits + 1, as: UInt8.self)
        let end: StaticString = "\r\n0\r\n\r\n"
        let tail = last ? 7 : 2
        (base + output.count).copyMemory(from: end.utf8Start, byteCount: tail)
        return UnsafeRawBufferPointer(start: start, count: digits + 2 + output.count + tail)
    }
}
