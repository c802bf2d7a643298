import Foundation
import RackPlanning

/// What catalog creates and updates read from a body besides ``RecordInput``'s rules: the keys
/// no body may set, and the slug a create may leave out.
enum CatalogInput {
    /// Computed counts: the store fills them in.
    static let deviceTypeReadOnly: Set<String> = ["model_count"]
    /// `logo_url` changes only through `POST`/`DELETE /api/brands/{id}/logo`, which own the file
    /// it names: a URL set by hand would point at nothing, or make a later logo change delete a
    /// file it does not own.
    static let brandReadOnly: Set<String> = ["model_count", "logo_url"]
    /// The embedded brand and device type come from the ids; the count from the devices.
    static let modelReadOnly: Set<String> = ["brand", "device_type", "device_count"]

    /// The create body with a `slug` made from its `name` when it has none (absent or `null`),
    /// so `{"name": "Network Switch"}` creates `network-switch`. A given slug is kept as is.
    /// - Parameter body: a device-type or brand create body.
    /// - Returns: the body, with `slug` added when one could be derived.
    /// - Throws: a 422 on `slug` when the name holds nothing a slug can be made of (only
    ///   punctuation or non-Latin letters): the client has to choose one.
    static func withDerivedSlug(_ body: JSONObject) throws -> JSONObject {
        let slug = body["slug"]
        guard slug == nil || slug is NSNull, let name = body["name"] as? String, !name.isEmpty else { return body }
        let derived = Slug.make(from: name)
        guard !derived.isEmpty else {
            throw APIError.invalidField(
                "slug", "No slug can be made from this name; give one (letters, digits and hyphens)",
                type: "missing")
        }
        var fields = body.fields
        fields["slug"] = derived
        return JSONObject(fields: fields)
    }
}
