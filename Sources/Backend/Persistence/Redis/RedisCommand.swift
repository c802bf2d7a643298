import CHiredis
import NIOCore

/// One Redis command: a name and binary-safe arguments, encoded by hiredis's
/// `redisFormatCommandArgv` when it is written.
///
/// ```swift
/// RedisCommand("SET", key, payload, "PX", 300_000)
/// ```
public struct RedisCommand: Sendable, Hashable {
    /// The name first, then the arguments, each as raw bytes.
    public private(set) var arguments: [[UInt8]]

    /// - Parameters:
    ///   - name: the command (`GET`, `SET`, `CLIENT`...).
    ///   - arguments: its arguments; strings are sent as UTF-8, integers in decimal.
    public init(_ name: String, _ arguments: any RedisArgument...) {
        self.init(name, arguments: arguments)
    }

    /// - Parameters:
    ///   - name: the command.
    ///   - arguments: its arguments, from an array (`MGET` of a computed key list).
    public init(_ name: String, arguments: [any RedisArgument]) {
        self.arguments = [Array(name.utf8)] + arguments.map(\.redisBytes)
    }

    /// The command's name, for logs (never its arguments, which may hold secrets such as `AUTH`'s).
    public var name: String { String(decoding: arguments[0], as: UTF8.self) }

    /// Appends the command in RESP form, as hiredis formats it.
    ///
    /// hiredis wants C arrays of pointers and lengths; the arguments are laid out in one
    /// contiguous buffer so that a single `withUnsafeBufferPointer` covers all of them.
    func encode(into buffer: inout ByteBuffer) {
        var storage: [UInt8] = []
        storage.reserveCapacity(arguments.reduce(1) { $0 + $1.count })
        var lengths: [Int] = []
        lengths.reserveCapacity(arguments.count)
        for argument in arguments {
            storage.append(contentsOf: argument)
            lengths.append(argument.count)
        }
        // A trailing byte keeps the base address non-nil even when every argument is empty.
        storage.append(0)

        storage.withUnsafeBufferPointer { bytes in
            let base = UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self)
            var pointers: [UnsafePointer<CChar>?] = []
            pointers.reserveCapacity(lengths.count)
            var offset = 0
            for length in lengths {
                pointers.append(base + offset)
                offset += length
            }
            var target: UnsafeMutablePointer<CChar>?
            let count = pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    redisFormatCommandArgv(&target, Int32(argv.count), argv.baseAddress, argvlen.baseAddress)
                }
            }
            guard count >= 0, let target else {
                // hiredis fails only when malloc does.
                fatalError("redisFormatCommandArgv failed (out of memory)")
            }
            defer { redisFreeCommand(target) }
            buffer.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(count)))
        }
    }
}

extension RedisCommand: CustomStringConvertible {
    /// The name and the number of arguments: values stay out of logs.
    public var description: String { "\(name) (\(arguments.count - 1) arguments)" }
}

/// A value that can be a command argument.
public protocol RedisArgument: Sendable {
    /// The bytes Redis receives.
    var redisBytes: [UInt8] { get }
}

extension String: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Substring: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Int: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Int64: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    public var redisBytes: [UInt8] { self }
}

extension ByteBuffer: RedisArgument {
    public var redisBytes: [UInt8] { Array(readableBytesView) }
}
