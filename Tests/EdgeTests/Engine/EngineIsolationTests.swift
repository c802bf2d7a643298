import Foundation
import Testing

/// The engine holds the edge's decisions apart from any I/O: nothing in `Sources/Edge/Engine`
/// or `Sources/EdgeRules` imports SwiftNIO (or reads a clock other than ``EdgeClock``), so the edge's own I/O core can
/// carry every rule across untouched.
@Suite struct EngineIsolationTests {
    /// The engine, and the rules it shares with the I/O core (`Sources/EdgeRules`).
    @Test(arguments: ["Sources/Edge/Engine", "Sources/EdgeRules"])
    func engineFilesImportNoIOFramework(folder: String) throws {
        let engine = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(folder)
        let files = try FileManager.default.contentsOfDirectory(atPath: engine.path).filter { $0.hasSuffix(".swift") }
        #expect(files.count >= 2)
        for file in files {
            let text = try String(contentsOf: engine.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("import ") {
                #expect(!line.contains("NIO"), "\(file): \(line)")
                #expect(!line.contains("Dispatch") && !line.contains("Foundation"), "\(file): \(line)")
            }
            #expect(!text.contains("NIODeadline") && !text.contains("ContinuousClock") && !text.contains("Date()"), "\(file) reads a clock")
        }
    }

    /// SwiftNIO left the edge: no file of the edge or of its core imports it (the package
    /// gives those targets no NIO dependency; this says so where a reader of the tests looks).
    @Test(arguments: ["Sources/Edge", "Sources/EdgeIO", "Sources/EdgeIOProxy", "Sources/EdgeMain"])
    func theEdgeImportsNoSwiftNIO(folder: String) throws {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(folder)
        let files = try #require(FileManager.default.enumerator(atPath: root.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }
        #expect(!files.isEmpty)
        for file in files {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("import ") {
                #expect(!line.contains("NIO"), "\(folder)/\(file): \(line)")
            }
        }
    }
}
