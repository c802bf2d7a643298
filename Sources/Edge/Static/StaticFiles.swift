#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves a route's static directory: `index.html` for directories, the index for unknown paths
/// when the route is a single-page app, `ETag` / `Last-Modified` with `304`, `Content-Type` by
/// extension, and large files sent with `sendfile` (a `FileRegion`), never copied through user
/// space. Every file-system call runs on the thread pool, never on an event loop.
enum StaticFiles {
    /// Files up to this size are read into memory (so they can be compressed); larger ones are sent with `sendfile`.
    static let inMemoryLimit = 256 * 1024

    /// What the file system said about a request.
    enum Lookup {
        case notFound
        case forbidden
        case file(path: String, size: Int, modified: Int, content: Content)

        enum Content {
            case bytes([UInt8])
            case handle(NIOFileHandle)
        }
    }

    /// Where the file for a request is, found without opening it.
    enum Location: Equatable {
        case notFound
        case forbidden
        case file(path: String, size: Int, modified: Int)
    }

    /// Finds the file for `relative` below `config.root`: a directory's index, the index for an
    /// unknown path when the route is a single-page app; symbolic links resolved and kept below
    /// the root. Blocking file-system calls: the NIO shell calls it on its thread pool, the I/O
    /// core on its loop (as nginx does, a `stat` of a local file).
    static func locate(relative: String, config: StaticConfig) -> Location {
        guard let root = realPath(config.root) else { return .notFound }
        var candidates = [relative.isEmpty ? root : root + "/" + relative]
        if config.spaFallback { candidates.append(root + "/" + config.index) }
        for candidate in candidates {
            guard var resolved = realPath(candidate) else { continue }
            // Symbolic links may point anywhere: the resolved file must still be below the root.
            guard resolved == root || resolved.hasPrefix(root + "/") else { return .forbidden }
            var info = stat()
            guard stat(resolved, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                guard let index = realPath(resolved + "/" + config.index), index.hasPrefix(root + "/"),
                    stat(index, &info) == 0, info.st_mode & S_IFMT == S_IFREG
                else { continue }
                resolved = index
            }
            guard info.st_mode & S_IFMT == S_IFREG else { continue }
            return .file(path: resolved, size: Int(info.st_size), modified: Int(info.st_mtim.tv_sec))
        }
        return .notFound
    }

    /// Opens a located file for reading.
    /// - Returns: the descriptor, or `nil` with `.forbidden` (no permission) or `.notFound`.
    static func open(_ path: String) -> (descriptor: Int32?, failure: Location) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return (nil, errno == EACCES ? .forbidden : .notFound) }
        return (fd, .notFound)
    }

    /// Finds and opens the file for `relative` below `config.root` (blocking; thread pool only).
    static func lookup(relative: String, config: StaticConfig, readBody: Bool) -> Lookup {
        switch locate(relative: relative, config: config) {
        case .notFound: return .notFound
        case .forbidden: return .forbidden
        case .file(let path, let size, let modified):
            guard readBody else { return .file(path: path, size: size, modified: modified, content: .bytes([])) }
            let (opened, failure) = open(path)
            guard let fd = opened else { return failure == .forbidden ? .forbidden : .notFound }
            if size > inMemoryLimit {
                return .file(
                    path: path, size: size, modified: modified,
                    content: .handle(NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)))
            }
            defer { close(fd) }
            var bytes = [UInt8](repeating: 0, count: size)
            var offset = 0
            while offset < size {
                let got = bytes[offset...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else { break }
                offset += got
            }
            return .file(path: path, size: offset, modified: modified, content: .bytes(Array(bytes[..<offset])))
        }
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
