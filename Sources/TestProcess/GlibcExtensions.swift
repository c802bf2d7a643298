import Glibc

/// The GNU extensions ``ChildProcess`` needs, looked up at run time: Swift's Glibc module does
/// not import them (glibc declares them only under `_GNU_SOURCE`).
enum GlibcExtensions {
    typealias FileAction = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias ChangeDirectoryAction =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34+): closes every descriptor from
    /// the argument on, in the child, before `exec`.
    static let addCloseFrom: FileAction? = symbol("posix_spawn_file_actions_addclosefrom_np")
    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29+): the child's working directory.
    static let addChangeDirectory: ChangeDirectoryAction? = symbol("posix_spawn_file_actions_addchdir_np")
    /// `pipe2`: a pipe made close-on-exec atomically, so that no program another thread starts
    /// meanwhile inherits it.
    static let pipe2: Pipe2? = symbol("pipe2")

    private static func symbol<T>(_ name: String) -> T? {
        // RTLD_DEFAULT (a null handle): the symbol as the process already links it.
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: T.self) }
    }
}
