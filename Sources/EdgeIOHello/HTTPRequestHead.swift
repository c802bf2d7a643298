/// The little of an HTTP/1.1 request head ``HelloHandler`` needs, parsed in place.
struct HTTPRequestHead {
    /// Bytes from the request line to the blank line, inclusive.
    var headLength: Int
    var contentLength: Int
    var keepAlive: Bool
    var isLarge: Bool
    var isFile: Bool
    var malformed: Bool

    /// Parses the head starting at `offset`, or returns `nil` when it is not complete yet.
    static func parse(_ input: UnsafeRawBufferPointer, from offset: Int) -> HTTPRequestHead? {
        let count = input.count
        var end = -1
        var i = offset
        while i + 3 < count {
            if input[i + 3] == 10 && input[i + 2] == 13 && input[i + 1] == 10 && input[i] == 13 {
                end = i + 4
                break
            }
            i += 1
        }
        guard end > 0 else { return nil }
        var head = HTTPRequestHead(headLength: end - offset, contentLength: 0, keepAlive: true, isLarge: false, isFile: false, malformed: false)
        // Request line: METHOD SP TARGET SP VERSION CRLF
        var lineEnd = offset
        while input[lineEnd] != 13 { lineEnd += 1 }
        var firstSpace = offset
        while firstSpace < lineEnd && input[firstSpace] != 32 { firstSpace += 1 }
        var secondSpace = firstSpace + 1
        while secondSpace < lineEnd && input[secondSpace] != 32 { secondSpace += 1 }
        guard firstSpace < lineEnd, secondSpace < lineEnd, lineEnd - secondSpace - 1 == 8 else {
            head.malformed = true
            return head
        }
        head.isLarge = matches(input, firstSpace + 1, secondSpace, "/large")
        head.isFile = matches(input, firstSpace + 1, secondSpace, "/file")
        let minor = input[lineEnd - 1]
        head.keepAlive = minor == UInt8(ascii: "1")
        // Header lines
        var line = lineEnd + 2
        while line < end - 2 {
            var lineStop = line
            while input[lineStop] != 13 { lineStop += 1 }
            var colon = line
            while colon < lineStop && input[colon] != UInt8(ascii: ":") { colon += 1 }
            if colon < lineStop {
                var valueStart = colon + 1
                while valueStart < lineStop && (input[valueStart] == 32 || input[valueStart] == 9) { valueStart += 1 }
                if matches(input, line, colon, "connection") {
                    if matches(input, valueStart, lineStop, "close") { head.keepAlive = false }
                    if matches(input, valueStart, lineStop, "keep-alive") { head.keepAlive = true }
                } else if matches(input, line, colon, "content-length") {
                    var value = 0
                    for j in valueStart..<lineStop {
                        let digit = Int(input[j]) - 48
                        guard digit >= 0 && digit <= 9, value < 1 << 40 else {
                            head.malformed = true
                            return head
                        }
                        value = value * 10 + digit
                    }
                    head.contentLength = value
                }
            }
            line = lineStop + 2
        }
        return head
    }

    /// Whether `input[from..<to]` equals `word` (ASCII, case-insensitive).
    static func matches(_ input: UnsafeRawBufferPointer, _ from: Int, _ to: Int, _ word: StaticString) -> Bool {
        guard to - from == word.utf8CodeUnitCount else { return false }
        let bytes = word.utf8Start
        for j in 0..<(to - from) where input[from + j] | 0x20 != bytes[j] | 0x20 {
            return false
        }
        return true
    }
}
