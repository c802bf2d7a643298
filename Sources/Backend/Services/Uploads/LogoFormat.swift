/// The image formats a brand logo may be, by file extension and by content.
///
/// The extension alone says nothing about the bytes, and the file is served back under the
/// extension's `Content-Type`, so the content must be of that format too: PNG, JPEG and WebP by
/// their signatures, SVG as UTF-8 text that starts with `<svg` or an XML declaration and holds
/// an `<svg` element.
public enum LogoFormat: Sendable, CaseIterable {
    case png
    case jpeg
    case svg
    case webp

    /// The accepted extensions, as error messages list them.
    public static let acceptedExtensions = [".png", ".jpg", ".jpeg", ".svg", ".webp"]

    /// The format of a file extension (with its dot, any case); `nil` when not accepted.
    public init?(fileExtension: String) {
        switch fileExtension.lowercased() {
        case ".png": self = .png
        case ".jpg", ".jpeg": self = .jpeg
        case ".svg": self = .svg
        case ".webp": self = .webp
        default: return nil
        }
    }

    /// Whether `content` is a file of this format.
    public func matches(_ content: ArraySlice<UInt8>) -> Bool {
        switch self {
        case .png:
            return content.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        case .jpeg:
            return content.starts(with: [0xFF, 0xD8, 0xFF])
        case .webp:
            // A RIFF container (`RIFF`, 4-byte size) of form type `WEBP`.
            return content.count >= 12 && content.starts(with: Array("RIFF".utf8))
                && content.dropFirst(8).starts(with: Array("WEBP".utf8))
        case .svg:
            return Self.isSVG(content)
        }
    }

    /// UTF-8 text (a byte-order mark and leading whitespace allowed) that starts with `<svg`, or
    /// with `<?xml` and then holds `<svg`.
    private static func isSVG(_ content: ArraySlice<UInt8>) -> Bool {
        guard var text = String(validating: content, as: UTF8.self) else { return false }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let start = text.drop(while: \.isWhitespace)
        if start.hasPrefix("<svg") { return true }
        return start.hasPrefix("<?xml") && start.contains("<svg")
    }
}
