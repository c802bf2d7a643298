import Hummingbird
import Logging
import RackPlanning

/// Brand logos: checking an uploaded file, storing it as `brand_logos/{slug}_{8 hex}{ext}`
/// under the uploads folder, pointing the brand's `logo_url` at it, and removing the file it
/// replaces.
///
/// The new file is written before the brand row changes and the old one removed only after the
/// change committed, so `logo_url` never names a missing file; if the row cannot be written the
/// new file is removed again. Removal failures are logged, not answered: the client's change
/// did happen.
struct BrandLogos: Sendable {
    /// The subfolder of the uploads folder.
    static let folder = "brand_logos"
    /// How `logo_url` starts; the rest is the file name.
    static let urlPrefix = "/uploads/\(folder)/"
    /// `MAX_UPLOAD_BYTES`'s default, 5 MB; a larger file is a 413.
    static let defaultMaxFileSize = 5 * 1024 * 1024
    /// The form field holding the file.
    static let fieldName = "file"

    let store: any RackRepository
    let directory: UploadDirectory

    /// An uploaded logo that passed every check.
    struct LogoFile: Sendable {
        var format: LogoFormat
        /// Lowercased, with its dot: the stored file's extension.
        var fileExtension: String
        var content: ArraySlice<UInt8>
    }

    /// The logo in a `multipart/form-data` body.
    /// - Parameters:
    ///   - body: the whole request body.
    ///   - contentType: the request's `Content-Type`.
    /// - Returns: the file, of an accepted type, size and content.
    /// - Throws: 400 when the body is not a readable multipart form, the extension is not
    ///   accepted, or the content is not of the extension's type; 422 on `file` when the form
    ///   has no file in that field (FastAPI's answer for a missing `UploadFile`); 413 over
    ///   `maxFileSize`.
    ///   - maxFileSize: `MAX_UPLOAD_BYTES`.
    static func logoFile(in body: [UInt8], contentType: String?, maxFileSize: Int) throws -> LogoFile {
        let parts: [MultipartPart]
        do {
            let boundary = try MultipartBoundary.from(contentType: contentType)
            parts = try MultipartParser(boundary: boundary).parse(body)
        } catch {
            throw APIError.badRequest(error.message)
        }
        guard let part = parts.first(where: { $0.name == fieldName }) else {
            throw APIError.invalidField(
                fieldName, "Field required: send the logo in the form field 'file'", type: "missing")
        }
        guard part.filename != nil else {
            throw APIError.invalidField(fieldName, "Expected a file upload, not a text field", type: "value_error")
        }
        let accepted = LogoFormat.acceptedExtensions.joined(separator: ", ")
        guard let fileExtension = part.fileExtension, let format = LogoFormat(fileExtension: fileExtension) else {
            throw APIError.badRequest("File type not allowed; accepted: \(accepted)")
        }
        guard part.body.count <= maxFileSize else {
            throw APIError(
                status: .contentTooLarge, code: "PAYLOAD_TOO_LARGE",
                message: "The logo is larger than \(maxFileSize) bytes")
        }
        guard format.matches(part.body) else {
            throw APIError.badRequest("The file's content is not a \(fileExtension) image")
        }
        return LogoFile(format: format, fileExtension: fileExtension, content: part.body)
    }

    /// Stores `file` as the brand's logo, replacing (and removing) any previous one.
    /// - Returns: the brand with its new `logo_url`.
    /// - Throws: 404 for an unknown brand; file-system and store failures.
    func replace(brandID: Int, with file: LogoFile, logger: Logger) async throws -> Brand {
        let brand = try await store.brand(id: brandID)
        let name = Self.fileName(slug: brand.slug, fileExtension: file.fileExtension)
        try await directory.store(file.content, folder: Self.folder, name: name)
        let url = Self.urlPrefix + name
        let (updated, previous): (Brand, String?)
        do {
            (updated, previous) = try await setLogoURL(url, brandID: brandID)
        } catch {
            await discard(url, logger: logger)
            throw error
        }
        if let previous, previous != url { await discard(previous, logger: logger) }
        return updated
    }

    /// Clears the brand's logo and removes its file.
    /// - Returns: the brand without `logo_url`.
    /// - Throws: 404 for an unknown brand; store failures.
    func clear(brandID: Int, logger: Logger) async throws -> Brand {
        let (updated, previous) = try await setLogoURL(nil, brandID: brandID)
        if let previous { await discard(previous, logger: logger) }
        return updated
    }

    /// Removes the file a `logo_url` names, if it is one of ours (under ``urlPrefix``, a plain
    /// file name); anything else (an imported external URL) is left alone.
    func discard(_ logoURL: String, logger: Logger) async {
        guard logoURL.hasPrefix(Self.urlPrefix) else { return }
        let name = String(logoURL.dropFirst(Self.urlPrefix.count))
        do {
            try await directory.remove(folder: Self.folder, name: name)
        } catch {
            logger.warning(
                "could not remove a replaced brand logo",
                metadata: ["backend.upload.file": .string(name), "error": .string("\(error)")])
        }
    }

    /// Sets `logo_url` in one transaction, the brand locked first: two uploads at once must each
    /// see the other's URL as the one they replace (and remove its file), or one file would be
    /// orphaned. - Returns: the stored brand and the URL it replaced.
    private func setLogoURL(_ logoURL: String?, brandID: Int) async throws -> (Brand, String?) {
        try await store.transaction { store in
            try await store.lockBrand(id: brandID)
            var brand = try await store.brand(id: brandID)
            let previous = brand.logoURL
            brand.logoURL = logoURL
            return (try await store.updateBrand(brand), previous)
        }
    }

    /// `{slug}_{8 hex}{ext}`, the slug made file-name safe (a client may have chosen `../x`).
    static func fileName(slug: String, fileExtension: String) -> String {
        let safeSlug = Slug.make(from: slug)
        let hex = String(UInt32.random(in: .min ... .max), radix: 16)
        let padded = String(repeating: "0", count: 8 - hex.count) + hex
        return "\(safeSlug.isEmpty ? "brand" : safeSlug)_\(padded)\(fileExtension)"
    }
}
