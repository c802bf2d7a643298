/// The boundary of a `multipart/form-data` body, read from the request's `Content-Type`
/// (RFC 7578 §4.1, RFC 2046 §5.1.1): `multipart/form-data; boundary=----x` or `boundary="a b"`.
public enum MultipartBoundary {
    /// The characters RFC 2046 allows in a boundary (`bchars`); a space may not end it.
    private static let allowed = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'()+_,-./:=? ".unicodeScalars)

    /// The boundary named by `contentType`.
    /// - Parameter contentType: the request's `Content-Type`, if any.
    /// - Returns: the boundary, 1–70 characters.
    /// - Throws: ``MultipartError/notMultipart`` when the type is not `multipart/form-data`;
    ///   ``MultipartError/invalidBoundary`` when the boundary is missing or not allowed.
    public static func from(contentType: String?) throws(MultipartError) -> String {
        guard let contentType else {
            throw .notMultipart("The request has no Content-Type; send the file as multipart/form-data")
        }
        let header = try HeaderValue(parsing: contentType)
        guard header.value == "multipart/form-data" else {
            throw .notMultipart("The Content-Type is '\(header.value)'; send the file as multipart/form-data")
        }
        guard let boundary = header.parameters["boundary"] else {
            throw .invalidBoundary("The multipart/form-data Content-Type has no boundary parameter")
        }
        guard (1...70).contains(boundary.unicodeScalars.count), boundary.last != " ",
            boundary.unicodeScalars.allSatisfy(allowed.contains)
        else {
            throw .invalidBoundary("The multipart boundary must be 1 to 70 letters, digits or '()+_,-./:=? characters")
        }
        return boundary
    }
}
