import Foundation
import Testing

/// The fresh-machine check of `scripts/run.sh`'s package step: every Debian package that
/// Package.swift's system-library targets name in their `providers` (`.apt([...])`) is in
/// `BUILD_PACKAGES` of `scripts/lib/debian-packages.sh`, which `scripts/run.sh` and
/// `scripts/test.sh` install before building. Both files are read as text, so the check needs
/// neither apt nor a network.
@Suite struct DebianPackagesTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test func everyAptProviderInPackageSwiftIsABuildPackage() throws {
        let manifest = try String(
            contentsOf: Self.repositoryRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        let script = try String(
            contentsOf: Self.repositoryRoot.appendingPathComponent("scripts/lib/debian-packages.sh"), encoding: .utf8)

        let providers = try DebianPackageText.aptProviders(inManifest: manifest)
        #expect(!providers.isEmpty, "Package.swift names no .apt([...]) provider; the parser no longer matches it")
        let buildPackages = try DebianPackageText.bashArray(named: "BUILD_PACKAGES", in: script)

        let missing = providers.filter { !buildPackages.contains($0) }
        #expect(
            missing.isEmpty,
            "scripts/lib/debian-packages.sh BUILD_PACKAGES lacks \(missing), named in Package.swift's providers")
    }

    @Test func runScriptInstallsTheBuildPackagesBeforeBuilding() throws {
        let script = try String(
            contentsOf: Self.repositoryRoot.appendingPathComponent("scripts/run.sh"), encoding: .utf8)
        let lines = script.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.hasPrefix("#") }
        let install = lines.firstIndex { $0.contains("ensure_debian_packages") && $0.contains("${BUILD_PACKAGES[@]}") }
        let build = lines.firstIndex { $0.hasPrefix("swift build") }
        let installLine = try #require(install, "scripts/run.sh never calls ensure_debian_packages with BUILD_PACKAGES")
        let buildLine = try #require(build, "scripts/run.sh has no `swift build` line")
        #expect(installLine < buildLine, "scripts/run.sh builds before it installs the build packages")
        #expect(lines.contains { $0.hasPrefix("source") && $0.contains("scripts/lib/debian-packages.sh") })
    }

    @Test func parsesProvidersAndArraysFromText() throws {
        let manifest = """
            .systemLibrary(name: "A", providers: [.apt(["liba-dev", "libb-dev"]), .brew(["a"])]),
            // .systemLibrary(name: "Gone", providers: [.apt(["libgone-dev"])]),
            .systemLibrary(
                name: "C",
                providers: [
                    .apt(["libc-dev"])
                ]
            ),
            """
        #expect(try DebianPackageText.aptProviders(inManifest: manifest) == ["liba-dev", "libb-dev", "libc-dev"])

        let script = """
            # BUILD_PACKAGES=(commented-out)
            BUILD_PACKAGES=(liba-dev
              libb-dev   # a comment
              "libc-dev")
            RUN_PACKAGES=(curl)
            """
        #expect(
            try DebianPackageText.bashArray(named: "BUILD_PACKAGES", in: script) == [
                "liba-dev", "libb-dev", "libc-dev",
            ])
        #expect(throws: DebianPackageText.Failure.self) {
            try DebianPackageText.bashArray(named: "TEST_PACKAGES", in: script)
        }
    }
}

/// Reads Debian package names out of Package.swift and a bash array assignment, as text.
enum DebianPackageText {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// The package names inside every `.apt([...])` of a manifest, skipping `//` comment lines.
    static func aptProviders(inManifest manifest: String) throws -> [String] {
        let code = manifest.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
            .joined(separator: "\n")
        var names: [String] = []
        var rest = code[...]
        while let start = rest.range(of: ".apt(") {
            rest = rest[start.upperBound...]
            guard let open = rest.firstIndex(of: "["), let close = rest.firstIndex(of: "]"), open < close else {
                throw Failure(description: "an .apt( in Package.swift has no [...] list")
            }
            names += quotedStrings(in: rest[rest.index(after: open)..<close])
            rest = rest[close...]
        }
        return names
    }

    /// The words of `name=( ... )` in a bash script (quotes removed, `#` comments skipped).
    static func bashArray(named name: String, in script: String) throws -> [String] {
        let lines = script.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\(name)=(") })
        else { throw Failure(description: "no \(name)=( assignment") }
        var words: [String] = []
        for (index, line) in lines[first...].enumerated() {
            var text = String(line)
            if let hash = text.firstIndex(of: "#") { text = String(text[..<hash]) }
            if index == 0, let open = text.firstIndex(of: "(") { text = String(text[text.index(after: open)...]) }
            let closed = text.contains(")")
            if let close = text.firstIndex(of: ")") { text = String(text[..<close]) }
            words += text.split(whereSeparator: { $0 == " " || $0 == "\t" })
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) }
            if closed { return words }
        }
        throw Failure(description: "\(name)=( is never closed")
    }

    private static func quotedStrings(in text: Substring) -> [String] {
        text.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }
}
