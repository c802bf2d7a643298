/// The answer to a request for a static file that exists, decided from the file's size and
/// date and the request's conditional and range fields, with no I/O type (the core writes it,
/// tests check it as a value).
///
/// `If-None-Match` / `If-Modified-Since` against the file's `ETag` and `Last-Modified` give
/// `304`; a single satisfiable `Range` on a GET (under `If-Range`) gives `206`, one past the end
/// `416`; anything else the whole file with `200` (``ByteRange``).
struct StaticAnswer: Equatable {
    enum Kind: Equatable {
        case whole
        case partial
        case notModified
        /// `416` in the error envelope, with `Content-Range: bytes */SIZE` (``rangeFields``).
        case unsatisfiable
    }

    var kind: Kind
    var status: Int
    /// `Content-Type`, `ETag` and `Last-Modified` (none for `416`).
    var fields: [AnswerContent.Field]
    /// `Accept-Ranges` unless `304`, and `Content-Range` for `206` and `416` (`bytes */SIZE`).
    var rangeFields: [AnswerContent.Field] = []
    /// The file's bytes the body carries (empty for `304` and `416`; all of it for a HEAD,
    /// whose length the head announces).
    var range: Range<Int>

    /// - Parameters:
    ///   - isGET: `false` for HEAD (ranges apply to GET only).
    ///   - field: the request's first field of a (lower-case) name.
    init(path: String, size: Int, modified: Int, isGET: Bool, field: (String) -> String?) {
        let entityTag = StaticPath.entityTag(size: size, modifiedSeconds: modified)
        let lastModified = HTTPDate.format(epochSeconds: modified)
        fields = [
            .init(name: "Content-Type", value: MediaTypes.type(of: path)), .init(name: "ETag", value: entityTag),
            .init(name: "Last-Modified", value: lastModified),
        ]
        range = 0..<size
        if StaticPath.isNotModified(
            ifNoneMatch: field("if-none-match"), ifModifiedSince: field("if-modified-since"), entityTag: entityTag,
            lastModified: lastModified)
        {
            (kind, status, range) = (.notModified, 304, 0..<0)
            return
        }
        rangeFields = [.init(name: "Accept-Ranges", value: "bytes")]
        (kind, status) = (.whole, 200)
        guard isGET, let header = field("range"),
            StaticPath.ifRangeHolds(field("if-range"), entityTag: entityTag, lastModified: lastModified)
        else { return }
        switch ByteRange.parse(header, size: size) {
        case .satisfiable(let bytes):
            (kind, status, range) = (.partial, 206, bytes)
            rangeFields.append(.init(name: "Content-Range", value: "bytes \(bytes.lowerBound)-\(bytes.upperBound - 1)/\(size)"))
        case .unsatisfiable:
            (kind, status, range) = (.unsatisfiable, 416, 0..<0)
            fields = []
            rangeFields = [.init(name: "Content-Range", value: "bytes */\(size)")]
        case .ignored:
            break
        }
    }

    /// The `416` answer's message.
    static var unsatisfiableMessage: String { "the requested range is outside the file" }
}
