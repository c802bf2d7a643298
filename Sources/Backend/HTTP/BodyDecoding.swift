import Foundation
import RackPlanning

/// Decodes a JSON object into a type while collecting every field the decoder refuses, not just
/// the first: a 422 lists every field at fault, whatever the mix of wrong types and invalid enum
/// values.
///
/// `JSONDecoder` stops at its first error. So each refused field is recorded, put back to its
/// fallback (the record's default or stored value), or removed when there is none, and the
/// object decoded again, until it decodes or nothing more can be put back. Foundation reports
/// some refusals without a coding path (on Linux a fractional number for an `Int` field is "not
/// valid JSON"); the field is then found by putting back one field at a time.
enum BodyDecoding {
    struct Outcome<T> {
        /// The decoded value, with every refused field at its fallback; `nil` when even that
        /// does not decode (a required field without fallback was refused).
        var value: T?
        /// One error per refused field, in the order found.
        var errors: [FieldError]
        /// The top-level keys of ``errors``.
        var refusedKeys: Set<String>
    }

    /// - Parameters:
    ///   - type: what to decode.
    ///   - object: the merged JSON object.
    ///   - fallback: a value for each key to put back when the object's is refused (the
    ///     record's defaults or stored values); keys absent from it are removed instead.
    static func decode<T: Decodable>(_ type: T.Type, from object: [String: Any], fallback: [String: Any] = [:])
        -> Outcome<T>
    {
        var current = object
        var errors: [FieldError] = []
        var refused = Set<String>()
        for _ in 0...object.count {
            let error: DecodingError
            switch attempt(type, current) {
            case .success(let value): return Outcome(value: value, errors: errors, refusedKeys: refused)
            case .failure(let failure): error = failure
            }
            var fieldError = FieldError(decodingError: error)
            var key = topLevelKey(of: error)
            if key == nil {
                key = culprit(type, in: current, error: error, fallback: fallback, excluding: refused)
                if let key {
                    fieldError = Self.fieldError(forUnpathedValue: current[key], key: key)
                }
            }
            guard let key, !refused.contains(key) else {
                if errors.isEmpty { errors.append(fieldError) }
                return Outcome(value: nil, errors: errors, refusedKeys: refused)
            }
            errors.append(fieldError)
            refused.insert(key)
            if let value = fallback[key] { current[key] = value } else { current.removeValue(forKey: key) }
        }
        return Outcome(value: nil, errors: errors, refusedKeys: refused)
    }

    private static func attempt<T: Decodable>(_ type: T.Type, _ object: [String: Any]) -> Result<T, DecodingError> {
        do {
            let data = try JSONSerialization.data(withJSONObject: object)
            return .success(try JSONDecoder().decode(T.self, from: data))
        } catch let error as DecodingError {
            return .failure(error)
        } catch {
            return .failure(.dataCorrupted(.init(codingPath: [], debugDescription: "\(error)")))
        }
    }

    private static func topLevelKey(of error: DecodingError) -> String? {
        switch error {
        case .keyNotFound(let key, let context):
            return (context.codingPath.first ?? key).stringValue
        case .valueNotFound(_, let context), .typeMismatch(_, let context), .dataCorrupted(let context):
            return context.codingPath.first?.stringValue
        @unknown default:
            return nil
        }
    }

    /// The first key (in sorted order) whose fallback makes `error` go away or change.
    private static func culprit<T: Decodable>(
        _ type: T.Type, in object: [String: Any], error: DecodingError, fallback: [String: Any],
        excluding refused: Set<String>
    ) -> String? {
        let described = "\(error)"
        for key in object.keys.sorted() where !refused.contains(key) {
            var trial = object
            if let value = fallback[key] { trial[key] = value } else { trial.removeValue(forKey: key) }
            switch attempt(type, trial) {
            case .success: return key
            case .failure(let other) where "\(other)" != described: return key
            case .failure: continue
            }
        }
        return nil
    }

    /// The error for a value Foundation refused without saying where.
    private static func fieldError(forUnpathedValue value: Any?, key: String) -> FieldError {
        if let number = value as? NSNumber, number.doubleValue.isFinite,
            number.doubleValue.rounded() != number.doubleValue
        {
            return FieldError(
                field: key, message: "Expected an integer, got a number with a fractional part",
                type: "int_from_float")
        }
        return FieldError(field: key, message: "Invalid value", type: "value_error")
    }
}
