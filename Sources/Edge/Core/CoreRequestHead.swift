import EdgeIOProxy

/// The I/O core's request head, parsed in place, as the engine reads heads (see
/// ``RequestHeadFields``): the ``FilterChain`` reads it where it lies, without a copy into
/// another head type.
///
/// Valid only while `input` is: during the core's policy call for that head. Fields are
/// found by scanning the head's bytes (a head is a few hundred bytes, and the chain asks for a
/// handful of fields); strings are made only for what the chain asks for.
struct CoreRequestHead: RequestHeadFields {
    let head: HTTPRequestHead
    let input: UnsafeRawBufferPointer

    var methodName: String { text(head.start, head.methodEnd) }
    var target: String { text(head.targetStart, head.targetEnd) }
    var isHTTP11OrLater: Bool { head.minorVersion >= 1 }

    func first(_ name: String) -> String? {
        var found: String?
        scan(name) { value in
            found = String(decoding: value, as: UTF8.self)
            return false
        }
        return found
    }

    func contains(_ name: String) -> Bool {
        var found = false
        scan(name) { _ in
            found = true
            return false
        }
        return found
    }

    func values(_ name: String) -> [String] {
        var all: [String] = []
        forEachValue(name) { all.append($0) }
        return all
    }

    func forEachValue(_ name: String, _ body: (String) -> Void) {
        scan(name) { value in
            body(String(decoding: value, as: UTF8.self))
            return true
        }
    }

    func forEachValueBytes(_ name: String, _ body: (UnsafeRawBufferPointer) -> Void) {
        scan(name) { value in
            body(value)
            return true
        }
    }

    private func text(_ from: Int, _ to: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: input[from..<to]), as: UTF8.self)
    }

    /// Calls `body` with the value of each field named `name` (lowercase) until it returns `false`.
    private func scan(_ name: String, _ body: (UnsafeRawBufferPointer) -> Bool) {
        var name = name
        name.withUTF8 { wanted in
            head.forEachField(in: input) { field, value in
                guard field.count == wanted.count else { return true }
                for index in 0..<field.count where field[index] | 0x20 != wanted[index] { return true }
                return body(value)
            }
        }
    }
}
