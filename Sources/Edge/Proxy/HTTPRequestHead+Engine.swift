import NIOHTTP1

/// SwiftNIO's parsed head, as the engine reads heads (see ``RequestHeadFields``).
extension HTTPRequestHead: RequestHeadFields {
    var methodName: String { method.rawValue }
    var target: String { uri }
    var isHTTP11OrLater: Bool { version.major > 1 || (version.major == 1 && version.minor >= 1) }
    func first(_ name: String) -> String? { headers.first(name: name) }
    func contains(_ name: String) -> Bool { headers.contains(name: name) }
    func values(_ name: String) -> [String] { headers[name] }
    func forEachValue(_ name: String, _ body: (String) -> Void) {
        let length = name.utf8.count
        for (field, value) in headers where field.utf8.count == length && field.lowercased() == name { body(value) }
    }
}
