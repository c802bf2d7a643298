import Foundation
import Hummingbird

extension Request {
    /// A required search term (`q`), without surrounding spaces: missing, empty or only spaces
    /// is a 422 naming the parameter, since an empty term would match everything.
    func searchTerm(_ name: String = "q") throws -> String {
        let term = stringQuery(name)?.trimmingCharacters(in: .whitespaces) ?? ""
        guard !term.isEmpty else {
            throw APIError.invalidField(name, "Field required: a non-empty search term", type: "missing")
        }
        return term
    }
}
