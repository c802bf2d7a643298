/// One field of a `multipart/form-data` body: its headers, the name and file name of its
/// `Content-Disposition`, and its content.
public struct MultipartPart: Sendable, Equatable {
    /// One header line of the part, name lowercased.
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The headers in the order sent.
    public var headers: [Header]
    /// The form field's name (`name` of `Content-Disposition: form-data`).
    public var name: String
    /// The uploaded file's name as the client sent it (`filename`), `nil` for a plain field.
    public var filename: String?
    /// The part's `Content-Type`, if given.
    public var contentType: String?
    /// The content, exactly as sent (no transfer decoding: RFC 7578 §4.7 drops
    /// `Content-Transfer-Encoding`).
    public var body: ArraySlice<UInt8>

    /// A part from its header lines.
    /// - Throws: ``MultipartError/malformed`` when `Content-Disposition` is missing, is not
    ///   `form-data`, or names no field.
    init(headers: [Header], body: ArraySlice<UInt8>) throws(MultipartError) {
        guard let disposition = headers.first(where: { $0.name == "content-disposition" }) else {
            throw .malformed("A form part has no Content-Disposition header")
        }
        let parsed = try HeaderValue(parsing: disposition.value)
        guard parsed.value == "form-data", let name = parsed.parameters["name"] else {
            throw .malformed("A form part's Content-Disposition is not form-data with a name")
        }
        self.headers = headers
        self.name = name
        self.filename = parsed.parameters["filename"]
        self.contentType = headers.first(where: { $0.name == "content-type" })?.value
        self.body = body
    }

    /// The file name's extension with its dot, lowercased (`.png`); `nil` when the name has
    /// none. Only the last path component counts (old browsers send `C:\logos\acme.png`).
    public var fileExtension: String? {
        guard let filename else { return nil }
        let lastComponent = filename.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last ?? ""
        guard let dot = lastComponent.lastIndex(of: "."), lastComponent.index(after: dot) != lastComponent.endIndex
        else { return nil }
        return lastComponent[dot...].lowercased()
    }
}
