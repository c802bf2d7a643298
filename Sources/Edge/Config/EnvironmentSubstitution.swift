/// `${VAR}` and `${VAR:-default}` in configuration values.
///
/// Secrets and per-host addresses then live in the environment (a systemd `EnvironmentFile`, a
/// container's variables) and one file serves every host. A variable that is unset and has no
/// default is an error rather than an empty string: an empty upstream address or header value
/// would fail later with a message that no longer names the variable.
enum EnvironmentSubstitution {
    /// `text` with every `${NAME}` and `${NAME:-default}` replaced.
    ///
    /// The default is used when the variable is unset or empty (as in POSIX shells). `$${` is a
    /// literal `${`; a `$` not followed by `{` is kept as is.
    /// - Throws: ``ConfigValueError`` naming every unset variable without a default, or a
    ///   malformed reference.
    static func substitute(_ text: String, environment: [String: String]) throws(ConfigValueError) -> String {
        guard text.contains("${") else { return text }
        var result = ""
        var missing: [String] = []
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let afterDollar = rest[rest.index(after: dollar)...]
            if afterDollar.hasPrefix("${") {
                result += "${"
                rest = afterDollar.dropFirst(2)
                continue
            }
            guard afterDollar.hasPrefix("{") else {
                result += "$"
                rest = afterDollar
                continue
            }
            let body = afterDollar.dropFirst()
            guard let close = body.firstIndex(of: "}") else {
                throw ConfigValueError(
                    "'${' has no closing '}' in '\(text)'; write ${NAME} or ${NAME:-default}, or $${ for a literal ${")
            }
            let reference = body[..<close]
            let name: Substring
            let fallback: Substring?
            if let separator = reference.firstRange(of: ":-") {
                name = reference[..<separator.lowerBound]
                fallback = reference[separator.upperBound...]
            } else {
                name = reference
                fallback = nil
            }
            guard isVariableName(name) else {
                throw ConfigValueError(
                    "'${\(reference)}' is not a variable reference; write ${NAME} or ${NAME:-default}, where NAME is letters, digits and _ (not starting with a digit)"
                )
            }
            if let value = environment[String(name)], !value.isEmpty || fallback == nil {
                result += value
            } else if let fallback {
                result += fallback
            } else {
                missing.append(String(name))
            }
            rest = body[body.index(after: close)...]
        }
        result += rest
        guard missing.isEmpty else {
            let names = missing.joined(separator: ", ")
            let example = missing[0]
            throw ConfigValueError(
                "environment variable\(missing.count > 1 ? "s" : "") \(names) \(missing.count > 1 ? "are" : "is") not set; set \(missing.count > 1 ? "them" : "it") in the edge's environment, or give a default: ${\(example):-value}"
            )
        }
        return result
    }

    private static func isVariableName(_ name: Substring) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return false
        }
        return name.utf8.allSatisfy {
            $0 == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
        }
    }
}
