import EdgeRules

/// `Content-Type` by file extension: the common web types, as nginx's `mime.types` has them.
enum MediaTypes {
    static let byExtension: [String: String] = [
        "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
        "json": "application/json", "map": "application/json", "xml": "application/xml", "txt": "text/plain; charset=utf-8",
        "md": "text/markdown; charset=utf-8", "csv": "text/csv; charset=utf-8", "svg": "image/svg+xml",
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
        "avif": "image/avif", "ico": "image/x-icon", "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf",
        "otf": "font/otf", "pdf": "application/pdf", "wasm": "application/wasm", "webmanifest": "application/manifest+json",
        "zip": "application/zip", "gz": "application/gzip", "mp4": "video/mp4", "webm": "video/webm", "mp3": "audio/mpeg",
    ]

    /// The media type of `path`, `application/octet-stream` when unknown.
    static func type(of path: String) -> String {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return "application/octet-stream" }
        return byExtension[path[path.index(after: dot)...].lowercased()] ?? "application/octet-stream"
    }

    /// Whether responses of this type are worth compressing (text, JSON, SVG, XML, JavaScript):
    /// the rule proxied responses follow too (``ResponseCompression/isCompressibleType(_:)``).
    static func isCompressible(_ contentType: String) -> Bool {
        var contentType = contentType
        return contentType.withUTF8 { ResponseCompression.isCompressibleType(UnsafeRawBufferPointer($0)) }
    }
}
