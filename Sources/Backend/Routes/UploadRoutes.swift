import Hummingbird

/// `GET /uploads/**`: files from the uploads folder (brand logos), with the `Content-Type` of
/// their extension.
///
/// Not Hummingbird's `FileMiddleware`: that one follows symbolic links wherever they point and
/// answers only for requests no route took. Here every path component must be a plain name
/// once percent-decoded (`..`, `%2e%2e`, `%2F`, hidden files: 400), and the file's real path
/// must lie inside the folder's (a symbolic link out of it: 404, as is anything missing).
/// Uploaded SVGs can carry scripts, so files are served with `nosniff` and a CSP sandbox that
/// keeps such a script inert when the file is opened directly.
struct UploadRoutes {
    let services: BackendServices

    func register(on router: Router<BackendRequestContext>) {
        let directory = UploadDirectory(root: services.uploadsDirectory)
        let fileIO = FileIO()
        router.get("uploads/**") { _, context in
            switch await directory.lookup(context.parameters.getCatchAll()) {
            case .invalid:
                throw APIError.badRequest("The path must name a file inside /uploads")
            case .notFound:
                throw APIError.notFound("File not found")
            case .file(let path):
                let body = try await fileIO.loadFile(path: path, context: context)
                return Response(status: .ok, headers: Self.headers(forFile: path), body: body)
            }
        }
    }

    /// The served file's `Content-Type` (from its extension; `application/octet-stream` when
    /// unknown) and the headers that keep an uploaded file from acting as a page.
    static func headers(forFile path: String) -> HTTPFields {
        let name = path.split(separator: "/").last ?? ""
        let fileExtension = name.lastIndex(of: ".").map { name[name.index(after: $0)...].lowercased() }
        let mediaType = fileExtension.flatMap { MediaType.getMediaType(forExtension: $0) }
        return [
            .contentType: mediaType?.description ?? "application/octet-stream",
            .init("X-Content-Type-Options")!: "nosniff",
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        ]
    }
}
