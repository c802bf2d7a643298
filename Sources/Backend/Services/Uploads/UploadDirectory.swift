import Foundation
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The folder uploaded files live in (``BackendServices/uploadsDirectory``), served at
/// `/uploads/...`: storing a file, removing one, and finding the file a request names without
/// ever leaving the folder.
///
/// File names handled here are single path components the server made (see
/// ``isSafeName(_:)``), never client text. The blocking file-system calls run on NIO's
/// thread pool, off the tasks that serve requests.
public struct UploadDirectory: Sendable {
    /// The folder's path as configured (it may not exist before the first upload).
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// Whether `name` can be used as one path component under the folder: not empty, no `/`,
    /// `\` or NUL, and not starting with `.` (which rules out `.`, `..` and the hidden temporary
    /// files ``store(_:folder:name:)`` writes).
    public static func isSafeName(_ name: some StringProtocol) -> Bool {
        !name.isEmpty && !name.hasPrefix(".")
            && !name.contains(where: { $0 == "/" || $0 == "\\" || $0 == "\0" })
    }

    /// Writes `content` as `folder/name`, creating the folder as needed. The bytes go to a hidden
    /// temporary file first, which is then renamed: a reader sees the whole file or none.
    /// - Parameters:
    ///   - content: the file's bytes.
    ///   - folder: a subfolder (one safe name, like `brand_logos`).
    ///   - name: the file's name (one safe name).
    /// - Throws: when the folder or file cannot be written.
    public func store(_ content: ArraySlice<UInt8>, folder: String, name: String) async throws {
        precondition(Self.isSafeName(folder) && Self.isSafeName(name), "upload paths are made by the server")
        let directory = URL(fileURLWithPath: root).appendingPathComponent(folder, isDirectory: true)
        let target = directory.appendingPathComponent(name)
        let temporary = directory.appendingPathComponent(".\(name).\(UInt32.random(in: .min ... .max)).partial")
        try await NIOThreadPool.singleton.runIfActive {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            do {
                try Data(content).write(to: temporary, options: .withoutOverwriting)
                guard rename(temporary.path, target.path) == 0 else {
                    throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
                }
            } catch {
                try? FileManager.default.removeItem(at: temporary)
                throw error
            }
        }
    }

    /// Removes `folder/name` if it is there.
    /// - Returns: whether a file was removed.
    /// - Throws: when it exists but cannot be removed.
    @discardableResult
    public func remove(folder: String, name: String) async throws -> Bool {
        guard Self.isSafeName(folder), Self.isSafeName(name) else { return false }
        let path = URL(fileURLWithPath: root).appendingPathComponent(folder).appendingPathComponent(name).path
        return try await NIOThreadPool.singleton.runIfActive {
            guard unlink(path) == 0 else {
                if errno == ENOENT { return false }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            return true
        }
    }

    /// Where a request for `/uploads/<components>` should be served from.
    public enum Lookup: Sendable, Equatable {
        /// The file's real path (symbolic links resolved), inside the folder.
        case file(String)
        /// A component is not a plain name once percent-decoded (`..`, `%2F`, a hidden file,
        /// bad percent-encoding): the request is refused.
        case invalid
        /// No regular file there, or one whose real path lies outside the folder.
        case notFound
    }

    /// The file that URL path components (still percent-encoded, as the router gives them) name.
    /// - Parameter components: the path below `/uploads/`.
    /// - Returns: the file, or why there is none.
    public func lookup(_ components: [Substring]) async -> Lookup {
        var names: [String] = []
        for component in components {
            guard let name = component.removingPercentEncoding, Self.isSafeName(name) else { return .invalid }
            names.append(name)
        }
        guard !names.isEmpty else { return .notFound }
        let root = self.root
        let requested = names.reduce(URL(fileURLWithPath: root)) { $0.appendingPathComponent($1) }.path
        return (try? await NIOThreadPool.singleton.runIfActive { Self.resolve(requested, within: root) }) ?? .notFound
    }

    /// `path` resolved through every symbolic link, if that is a regular file inside `root`'s
    /// own real path.
    private static func resolve(_ path: String, within root: String) -> Lookup {
        guard let realRoot = realPath(root), let realFile = realPath(path) else { return .notFound }
        let prefix = realRoot.hasSuffix("/") ? realRoot : realRoot + "/"
        guard realFile.hasPrefix(prefix) else { return .notFound }
        var status = stat()
        guard stat(realFile, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return .notFound }
        return .file(realFile)
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
