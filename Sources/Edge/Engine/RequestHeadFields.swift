/// What the engine reads of a parsed request head: the core's parser gives it in place
/// (``CoreRequestHead``), tests give a plain one. The engine's decisions are generic over it
/// (and specialised), so no head is copied into another type per request.
///
/// Header names passed in are lowercase; matching is case-insensitive, as HTTP's.
protocol RequestHeadFields {
    /// The method as sent (`GET`, `POST`, …).
    var methodName: String { get }
    /// The request target as sent (`/path?query`, an absolute form, `*`).
    var target: String { get }
    /// Whether the request is HTTP/1.1 or later (HTTP/1.0 needs no `Host`).
    var isHTTP11OrLater: Bool { get }
    /// The first value of a header, if present.
    func first(_ name: String) -> String?
    /// Whether the header is present.
    func contains(_ name: String) -> Bool
    /// Every value of a header, in order.
    func values(_ name: String) -> [String]
    /// Calls `body` with each value of a header, in order, without building an array.
    func forEachValue(_ name: String, _ body: (String) -> Void)
    /// The same with each value's bytes, valid during the call: no string is made (a value
    /// longer than 15 bytes would take a heap allocation).
    func forEachValueBytes(_ name: String, _ body: (UnsafeRawBufferPointer) -> Void)
}

extension RequestHeadFields {
    func forEachValueBytes(_ name: String, _ body: (UnsafeRawBufferPointer) -> Void) {
        forEachValue(name) { value in
            var value = value
            value.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }
    }
}
