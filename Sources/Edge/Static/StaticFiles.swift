#if canImport(Glibc)
import Glibc
#endif

/// Finds a route's static files: `index.html` for directories, the index for unknown paths when
/// the route is a single-page app, symbolic links kept below the root. What is answered
/// (`ETag` / `Last-Modified` with `304`, ranges, `Content-Type` by extension) is
/// ``StaticAnswer``'s; the core sends the file with `sendfile`, never copied through user space.
enum StaticFiles {
    /// Where the file for a request is, found without opening it.
    enum Location: Equatable {
        case notFound
        case forbidden
        case file(path: String, size: Int, modified: Int)
    }

    /// Finds the file for `relative` below `config.root`: a directory's index, the index for an
    /// unknown path when the route is a single-page app; symbolic links resolved and kept below
    /// the root. Blocking file-system calls, made on the loop (as nginx does: a `stat` of a
    /// local file).
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

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
