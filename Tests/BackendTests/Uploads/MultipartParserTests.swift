import Foundation
import Testing

@testable import Backend

/// Builds `multipart/form-data` bodies the way browsers and `curl` do (CRLF lines, a closing
/// delimiter), for the parser tests and the upload route tests.
struct MultipartForm: Sendable {
    var boundary = "------------------------HomeRack7MA4YWxkTrZu0gW"
    private(set) var bytes: [UInt8] = []

    /// `multipart/form-data; boundary=...`.
    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// Adds a file field.
    mutating func file(
        _ name: String = "file", filename: String, contentType: String = "application/octet-stream", _ content: [UInt8]
    ) {
        part(
            headers: [
                "Content-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"",
                "Content-Type: \(contentType)",
            ], content)
    }

    /// Adds a plain text field.
    mutating func field(_ name: String, _ value: String) {
        part(headers: ["Content-Disposition: form-data; name=\"\(name)\""], Array(value.utf8))
    }

    /// Adds a part with raw header lines.
    mutating func part(headers: [String], _ content: [UInt8]) {
        bytes += Array("--\(boundary)\r\n".utf8)
        for header in headers { bytes += Array("\(header)\r\n".utf8) }
        bytes += Array("\r\n".utf8) + content + Array("\r\n".utf8)
    }

    /// The body with its closing delimiter.
    var body: [UInt8] { bytes + Array("--\(boundary)--\r\n".utf8) }
}

@Suite("Uploads: multipart/form-data parser")
struct MultipartParserTests {
    private func parse(_ body: [UInt8], boundary: String, limits: MultipartParser.Limits = .init()) throws
        -> [MultipartPart]
    {
        try MultipartParser(boundary: boundary, limits: limits).parse(body)
    }

    private func parse(_ text: String, boundary: String = "b") throws -> [MultipartPart] {
        try parse(Array(text.utf8), boundary: boundary)
    }

    @Test func readsAFileAndATextFieldAsCurlSendsThem() throws {
        var form = MultipartForm()
        let content: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 13, 10, 0, 255, 13, 10, 45, 45]  // CRLF and "--" inside
        form.file(filename: "Logo.PNG", contentType: "image/png", content)
        form.field("note", "hello")
        let parts = try parse(form.body, boundary: form.boundary)
        #expect(parts.count == 2)
        #expect(parts[0].name == "file" && parts[0].filename == "Logo.PNG" && parts[0].contentType == "image/png")
        #expect(Array(parts[0].body) == content)
        #expect(parts[0].fileExtension == ".png")
        #expect(parts[0].headers.map(\.name) == ["content-disposition", "content-type"])
        #expect(
            parts[1].name == "note" && parts[1].filename == nil
                && String(decoding: parts[1].body, as: UTF8.self) == "hello")
    }

    @Test func skipsPreambleEpilogueAndPaddingAfterADelimiter() throws {
        let body =
            "preamble line\r\n--b \t\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--b--\r\nepilogue --b\r\n"
        let parts = try parse(body)
        #expect(parts.map(\.name) == ["a"])
        #expect(String(decoding: parts[0].body, as: UTF8.self) == "A")
    }

    @Test func boundaryTextInsideContentStaysContent() throws {
        // `--b` followed by neither `--` nor CRLF, and `--b` without a CRLF before it, are content.
        let body = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--bx y--b\r\n--b--"
        let parts = try parse(body)
        #expect(String(decoding: parts[0].body, as: UTF8.self) == "x\r\n--bx y--b")
    }

    @Test func emptyContentAndAnEmptyForm() throws {
        let parts = try parse("--b\r\nContent-Disposition: form-data; name=\"empty\"; filename=\"\"\r\n\r\n\r\n--b--")
        #expect(parts.count == 1 && parts[0].body.isEmpty && parts[0].filename == "")
        #expect(try parse("--b--\r\n").isEmpty)
    }

    @Test func quotedParametersKeepEscapesAndSemicolons() throws {
        let body =
            "--b\r\ncontent-disposition: FORM-DATA; NAME=\"f\"; filename=\"a \\\"b\\\"; c.SVG\"\r\n\r\n<svg/>\r\n--b--"
        let part = try #require(try parse(body).first)
        #expect(part.name == "f" && part.filename == "a \"b\"; c.SVG")
        #expect(part.fileExtension == ".svg")
    }

    @Test func fileExtensionUsesTheLastPathComponentOnly() throws {
        func part(_ filename: String) throws -> MultipartPart {
            try #require(
                try parse("--b\r\nContent-Disposition: form-data; name=f; filename=\"\(filename)\"\r\n\r\nx\r\n--b--")
                    .first)
        }
        #expect(try part("C:\\\\logos\\\\acme.JPeG").fileExtension == ".jpeg")
        #expect(try part("dir.png/logo").fileExtension == nil)
        #expect(try part("logo.").fileExtension == nil)
        #expect(try part("logo").fileExtension == nil)
    }

    @Test func refusesBodiesThatBreakTheSyntax() throws {
        let cases: [String] = [
            "no boundary here",
            "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nnever closed",
            "--b\r\nContent-Disposition: form-data; name=a\r\nheaders never end",
            "--b\r\nContent-Type: text/plain\r\n\r\nno disposition\r\n--b--",
            "--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--",
            "--b\r\nContent-Disposition: form-data; filename=x.png\r\n\r\nx\r\n--b--",
            "--b\r\nContent-Disposition form-data; name=a\r\n\r\nx\r\n--b--",
            "--b\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nx\r\n--b--",
            "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--",
            "--b\r\nContent-Disposition: form-data; name\r\n\r\nx\r\n--b--",
        ]
        for body in cases {
            #expect(throws: MultipartError.malformed, "\(body.debugDescription)") { try parse(body) }
        }
    }

    @Test func enforcesItsLimits() throws {
        var form = MultipartForm(boundary: "b")
        for index in 0..<3 { form.field("f\(index)", "x") }
        let limits = MultipartParser.Limits(maxParts: 2, maxHeaderBytes: 64)
        #expect(throws: MultipartError.tooManyParts) { try parse(form.body, boundary: "b", limits: limits) }

        var long = MultipartForm(boundary: "b")
        long.part(
            headers: ["Content-Disposition: form-data; name=a", "X-Padding: \(String(repeating: "p", count: 100))"], [1]
        )
        #expect(throws: MultipartError.headersTooLarge) { try parse(long.body, boundary: "b", limits: limits) }
        #expect(try parse(long.body, boundary: "b").count == 1)
    }

    @Test func boundaryComesFromTheContentType() throws {
        #expect(try MultipartBoundary.from(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(try MultipartBoundary.from(contentType: "Multipart/Form-Data;BOUNDARY=\"a b:c\"") == "a b:c")
        #expect(try MultipartBoundary.from(contentType: "multipart/form-data; charset=utf-8; boundary=x ; y=z") == "x")
        #expect(throws: MultipartError.notMultipart) { try MultipartBoundary.from(contentType: nil) }
        #expect(throws: MultipartError.notMultipart) { try MultipartBoundary.from(contentType: "application/json") }
        #expect(throws: MultipartError.notMultipart) {
            try MultipartBoundary.from(contentType: "multipart/mixed; boundary=a")
        }
        #expect(throws: MultipartError.invalidBoundary) {
            try MultipartBoundary.from(contentType: "multipart/form-data")
        }
        #expect(throws: MultipartError.invalidBoundary) {
            try MultipartBoundary.from(contentType: "multipart/form-data; boundary=\"\"")
        }
        #expect(throws: MultipartError.invalidBoundary) {
            try MultipartBoundary.from(
                contentType: "multipart/form-data; boundary=\(String(repeating: "a", count: 71))")
        }
        #expect(throws: MultipartError.invalidBoundary) {
            try MultipartBoundary.from(contentType: "multipart/form-data; boundary=\"a \"")
        }
        #expect(throws: MultipartError.invalidBoundary) {
            try MultipartBoundary.from(contentType: "multipart/form-data; boundary=a\"b")
        }
    }

    @Test func findsPatternsOnlyWithinTheRangeAsked() {
        let bytes = Array("xxabcxxabc".utf8)
        #expect(MultipartParser.index(of: Array("abc".utf8), in: bytes, from: 0, to: bytes.count) == 2)
        #expect(MultipartParser.index(of: Array("abc".utf8), in: bytes, from: 3, to: bytes.count) == 7)
        #expect(MultipartParser.index(of: Array("abc".utf8), in: bytes, from: 3, to: 9) == nil)
        #expect(MultipartParser.index(of: Array("abd".utf8), in: bytes, from: 0, to: bytes.count) == nil)
    }
}
