import Backend
import Foundation
import HummingbirdTesting
import NIOCore
import RackPlanning
import Testing

/// Small files of each accepted format (their signatures, then filler).
enum LogoSamples {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array("IHDR fake png".utf8)
    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array("JFIF fake jpeg".utf8)
    static let webp: [UInt8] = Array("RIFF".utf8) + [0x1A, 0, 0, 0] + Array("WEBPVP8 fake webp".utf8)
    static let svg = Array("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>".utf8)
    static let xmlSVG = Array(
        "\u{FEFF}<?xml version=\"1.0\"?>\n<!-- logo -->\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>".utf8)
}

extension APIClient {
    /// `POST /api/brands/{id}/logo` with `content` as the form's file.
    func uploadLogo(brand id: Int, filename: String, _ content: [UInt8], field: String = "file") async throws
        -> TestResponse
    {
        var form = MultipartForm()
        form.file(field, filename: filename, content)
        return try await upload(brand: id, form)
    }

    /// `POST /api/brands/{id}/logo` with a prepared form.
    func upload(brand id: Int, _ form: MultipartForm) async throws -> TestResponse {
        try await request(
            .post, "/api/brands/\(id)/logo", body: ByteBuffer(bytes: form.body),
            headers: [.contentType: form.contentType])
    }
}

@Suite("Routes: brand logos and /uploads")
struct UploadRouteTests {
    /// The file a `logo_url` names, on disk.
    private func file(for logoURL: String?, in services: BackendServices) throws -> URL {
        let url = try #require(logoURL)
        #expect(url.hasPrefix("/uploads/brand_logos/"))
        return URL(fileURLWithPath: services.uploadsDirectory).appendingPathComponent(
            String(url.dropFirst("/uploads/".count)))
    }

    @Test(arguments: TestDatabases.kinds)
    func uploadsALogoAndServesItBack(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, services in
            let brand = try await api.createBrand("Acme Corp")
            let response = try await api.uploadLogo(brand: brand.id, filename: "acme.png", LogoSamples.png)
            #expect(response.status == .ok)
            let updated = try response.decode(Brand.self)
            let logoURL = try #require(updated.logoURL)
            #expect(logoURL.wholeMatch(of: /\/uploads\/brand_logos\/acme-corp_[0-9a-f]{8}\.png/) != nil)
            #expect(updated.id == brand.id && updated.name == "Acme Corp")

            let stored = try file(for: logoURL, in: services)
            #expect(try Data(contentsOf: stored) == Data(LogoSamples.png))
            #expect(try await api.get("/api/brands/\(brand.id)").decode(Brand.self).logoURL == logoURL)

            let served = try await api.get(logoURL)
            #expect(served.status == .ok)
            #expect(Array(served.body.readableBytesView) == LogoSamples.png)
            #expect(served.headers[.contentType] == "image/png")
            #expect(served.headers[.init("X-Content-Type-Options")!] == "nosniff")
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func simultaneousUploadsForOneBrandLeaveOnlyTheCurrentLogoOnDisk(kind: StoreKind) async throws {
        try await APITest.withAPI(kind) { api, services in
            let brand = try await api.createBrand("Racer")
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        try await api.uploadLogo(brand: brand.id, filename: "r\(index).png", LogoSamples.png).status
                            .code
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
            let current = try await api.get("/api/brands/\(brand.id)").decode(Brand.self).logoURL
            let folder = URL(fileURLWithPath: services.uploadsDirectory).appendingPathComponent("brand_logos")
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            #expect(files == [try file(for: current, in: services).lastPathComponent], "orphaned: \(files)")
        }
    }

    @Test(arguments: [
        ("logo.png", LogoSamples.png, "image/png"), ("logo.JPG", LogoSamples.jpeg, "image/jpeg"),
        ("logo.jpeg", LogoSamples.jpeg, "image/jpeg"), ("logo.Svg", LogoSamples.svg, "image/svg+xml"),
        ("logo.svg", LogoSamples.xmlSVG, "image/svg+xml"), ("logo.WEBP", LogoSamples.webp, "image/webp"),
    ])
    func acceptsEachFormatWhateverTheExtensionCase(filename: String, content: [UInt8], contentType: String) async throws
    {
        try await APITest.withAPI { api, _ in
            let brand = try await api.createBrand("Acme")
            let response = try await api.uploadLogo(brand: brand.id, filename: filename, content)
            #expect(response.status == .ok, "\(response.text)")
            let logoURL = try #require(try response.decode(Brand.self).logoURL)
            let fileExtension = filename[filename.lastIndex(of: ".")!...].lowercased()
            #expect(logoURL.hasSuffix(fileExtension))
            let served = try await api.get(logoURL)
            #expect(Array(served.body.readableBytesView) == content)
            #expect(served.headers[.contentType] == contentType)
        }
    }

    @Test func replacingALogoRemovesTheOldFileAndDeleteClearsIt() async throws {
        let cache = MemoryResultCache()
        try await APITest.withAPI(cache: cache) { api, services in
            let brand = try await api.createBrand("Acme")
            let first = try await api.uploadLogo(brand: brand.id, filename: "a.png", LogoSamples.png).decode(Brand.self)
            let firstFile = try file(for: first.logoURL, in: services)
            let second = try await api.uploadLogo(brand: brand.id, filename: "b.svg", LogoSamples.svg).decode(
                Brand.self)
            let secondFile = try file(for: second.logoURL, in: services)
            #expect(second.logoURL != first.logoURL)
            #expect(!FileManager.default.fileExists(atPath: firstFile.path))
            #expect(FileManager.default.fileExists(atPath: secondFile.path))
            #expect(try await api.get(first.logoURL!).status == .notFound)

            let cleared = try await api.delete("/api/brands/\(brand.id)/logo")
            #expect(cleared.status == .ok)
            #expect(try cleared.decode(Brand.self).logoURL == nil)
            #expect(!FileManager.default.fileExists(atPath: secondFile.path))
            #expect(try await api.get(second.logoURL!).status == .notFound)
            // Clearing an absent logo is harmless.
            #expect(try await api.delete("/api/brands/\(brand.id)/logo").status == .ok)
            // The brand's create, two uploads, two clears.
            #expect(cache.invalidations == Array(repeating: [.catalog], count: 5))
            let folder = URL(fileURLWithPath: services.uploadsDirectory).appendingPathComponent("brand_logos").path
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        }
    }

    @Test func deletingABrandRemovesItsLogo() async throws {
        try await APITest.withAPI { api, services in
            let brand = try await api.createBrand("Acme")
            let uploaded = try await api.uploadLogo(brand: brand.id, filename: "a.webp", LogoSamples.webp).decode(
                Brand.self)
            let stored = try file(for: uploaded.logoURL, in: services)
            #expect(try await api.delete("/api/brands/\(brand.id)").status == .noContent)
            #expect(!FileManager.default.fileExists(atPath: stored.path))
        }
    }

    @Test func aHostileSlugCannotLeaveTheLogoFolder() async throws {
        try await APITest.withAPI { api, services in
            let brand = try await api.createBrand("Evil", ["slug": "../../Evil Co"])
            let uploaded = try await api.uploadLogo(brand: brand.id, filename: "x.png", LogoSamples.png).decode(
                Brand.self)
            let logoURL = try #require(uploaded.logoURL)
            #expect(logoURL.wholeMatch(of: /\/uploads\/brand_logos\/evil-co_[0-9a-f]{8}\.png/) != nil)
            #expect(FileManager.default.fileExists(atPath: try file(for: logoURL, in: services).path))
        }
    }

    @Test func wrongExtensionsAre400() async throws {
        try await APITest.withAPI { api, services in
            let brand = try await api.createBrand("Acme")
            for filename in ["logo.gif", "logo", "logo.png.exe", "logo."] {
                let response = try await api.uploadLogo(brand: brand.id, filename: filename, LogoSamples.png)
                #expect(response.status == .badRequest, "\(filename)")
                #expect((response.object["detail"] as? String)?.contains(".png, .jpg, .jpeg, .svg, .webp") == true)
            }
            #expect(try await api.get("/api/brands/\(brand.id)").decode(Brand.self).logoURL == nil)
            #expect(!FileManager.default.fileExists(atPath: services.uploadsDirectory + "/brand_logos"))
        }
    }

    @Test(arguments: [
        ("logo.png", LogoSamples.jpeg), ("logo.jpg", LogoSamples.png), ("logo.webp", Array("RIFF\0\0\0\0WAVE".utf8)),
        ("logo.svg", Array("<html><svg/></html>".utf8)), ("logo.svg", Array("<?xml version=\"1.0\"?><html/>".utf8)),
        ("logo.svg", [0x3C, 0x73, 0x76, 0x67, 0xFF, 0xFE]), ("logo.png", []),
    ])
    func contentNotOfTheExtensionsTypeIs400(filename: String, content: [UInt8]) async throws {
        try await APITest.withAPI { api, _ in
            let brand = try await api.createBrand("Acme")
            let response = try await api.uploadLogo(brand: brand.id, filename: filename, content)
            #expect(response.status == .badRequest)
            #expect((response.object["detail"] as? String)?.contains("content") == true)
        }
    }

    @Test func theLogoLimitIsMaxUploadBytes() async throws {
        try await APITest.withAPI(configure: { $0.maxUploadBytes = 2048 }) { api, _ in
            let brand = try await api.createBrand("Small")
            let atLimit = LogoSamples.png + [UInt8](repeating: 0, count: 2048 - LogoSamples.png.count)
            #expect(try await api.uploadLogo(brand: brand.id, filename: "a.png", atLimit).status == .ok)
            let refused = try await api.uploadLogo(brand: brand.id, filename: "b.png", atLimit + [0])
            #expect(refused.status == .contentTooLarge)
            #expect((refused.envelope["message"] as? String)?.contains("2048 bytes") == true)
            // A body far over the limit (and its 1 MiB of form framing) is refused before it is parsed.
            let huge = try await api.uploadLogo(
                brand: brand.id, filename: "c.png", LogoSamples.png + [UInt8](repeating: 0, count: 2 << 20))
            #expect(huge.status == .contentTooLarge)
        }
        let configuration = try BackendConfiguration.load(environment: ["MAX_UPLOAD_BYTES": "2048"], file: nil)
        #expect(configuration.maxUploadBytes == 2048)
        #expect(throws: BackendConfigurationError.self) {
            try BackendConfiguration.load(environment: ["MAX_UPLOAD_BYTES": "10"], file: nil)
        }
    }

    @Test func logosOver5MBAre413() async throws {
        try await APITest.withAPI { api, services in
            let brand = try await api.createBrand("Acme")
            let limit = 5 * 1024 * 1024
            let tooLarge = LogoSamples.png + [UInt8](repeating: 0, count: limit + 1 - LogoSamples.png.count)
            let refused = try await api.uploadLogo(brand: brand.id, filename: "big.png", tooLarge)
            #expect(refused.status == .contentTooLarge)
            #expect(refused.envelope["code"] as? String == "PAYLOAD_TOO_LARGE")
            #expect(try await api.get("/api/brands/\(brand.id)").decode(Brand.self).logoURL == nil)

            let atLimit = Array(tooLarge.dropLast())
            let accepted = try await api.uploadLogo(brand: brand.id, filename: "big.png", atLimit)
            #expect(accepted.status == .ok)
            let stored = try file(for: try accepted.decode(Brand.self).logoURL, in: services)
            #expect(try FileManager.default.attributesOfItem(atPath: stored.path)[.size] as? Int == limit)

            // A body beyond what any request may send is refused before it is parsed.
            let huge = [UInt8](repeating: 0, count: 7 * 1024 * 1024)
            #expect(try await api.uploadLogo(brand: brand.id, filename: "huge.png", huge).status == .contentTooLarge)
        }
    }

    @Test func formsWithoutAFileOrNotMultipartAreRefused() async throws {
        try await APITest.withAPI { api, _ in
            let brand = try await api.createBrand("Acme")
            let wrongField = try await api.uploadLogo(
                brand: brand.id, filename: "a.png", LogoSamples.png, field: "logo")
            #expect(wrongField.status == .unprocessableContent)
            #expect(wrongField.errorFields == ["file"])

            var textField = MultipartForm()
            textField.field("file", "not a file")
            #expect(try await api.upload(brand: brand.id, textField).errorFields == ["file"])

            let json = try await api.post("/api/brands/\(brand.id)/logo", ["file": "a.png"])
            #expect(json.status == .badRequest)
            #expect((json.object["detail"] as? String)?.contains("multipart/form-data") == true)

            let noBoundary = try await api.request(
                .post, "/api/brands/\(brand.id)/logo", body: ByteBuffer(string: "x"),
                headers: [.contentType: "multipart/form-data"])
            #expect(noBoundary.status == .badRequest)

            let truncated = try await api.request(
                .post, "/api/brands/\(brand.id)/logo",
                body: ByteBuffer(
                    string: "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n"),
                headers: [.contentType: "multipart/form-data; boundary=b"])
            #expect(truncated.status == .badRequest)
        }
    }

    @Test func unknownBrandsAre404() async throws {
        try await APITest.withAPI { api, services in
            let missing = try await api.uploadLogo(brand: 999, filename: "a.png", LogoSamples.png)
            #expect(missing.status == .notFound)
            #expect(missing.object["detail"] as? String == "Brand 999 not found")
            #expect(try await api.delete("/api/brands/999/logo").status == .notFound)
            #expect(try await api.uploadLogo(brand: 0, filename: "a.gif", []).status == .notFound)
            #expect(!FileManager.default.fileExists(atPath: services.uploadsDirectory + "/brand_logos"))
        }
    }

    @Test func uploadsAreServedOnlyFromInsideTheFolder() async throws {
        try await TestDatabases.withTemporaryDirectory { outside in
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            let secret = URL(fileURLWithPath: outside).appendingPathComponent("secret.txt")
            try Data("secret".utf8).write(to: secret)
            try await APITest.withAPI { api, services in
                let root = URL(fileURLWithPath: services.uploadsDirectory)
                let logos = root.appendingPathComponent("brand_logos")
                try FileManager.default.createDirectory(at: logos, withIntermediateDirectories: true)
                try Data(LogoSamples.png).write(to: logos.appendingPathComponent("ok.png"))
                try Data("notes".utf8).write(to: root.appendingPathComponent("notes.bin"))
                try Data("hidden".utf8).write(to: root.appendingPathComponent(".hidden"))
                try FileManager.default.createSymbolicLink(
                    at: root.appendingPathComponent("escape.txt"), withDestinationURL: secret)
                try FileManager.default.createSymbolicLink(
                    at: root.appendingPathComponent("outside"), withDestinationURL: URL(fileURLWithPath: outside))
                try FileManager.default.createSymbolicLink(
                    at: root.appendingPathComponent("alias.png"),
                    withDestinationURL: logos.appendingPathComponent("ok.png"))

                #expect(try await api.get("/uploads/brand_logos/ok.png").status == .ok)
                #expect(try await api.get("/uploads/brand_logos/ok%2Epng").status == .ok)
                let other = try await api.get("/uploads/notes.bin")
                #expect(other.status == .ok && other.headers[.contentType] == "application/octet-stream")
                // A link that stays inside the folder is followed.
                #expect(try await api.get("/uploads/alias.png").headers[.contentType] == "image/png")

                let refused = [
                    "/uploads/../\(secret.lastPathComponent)", "/uploads/brand_logos/../../x",
                    "/uploads/%2e%2e/secret.txt", "/uploads/%2E%2E%2Fsecret.txt", "/uploads/brand_logos%2Fok.png",
                    "/uploads/./brand_logos/ok.png", "/uploads/.hidden", "/uploads/a%00b", "/uploads/%zz",
                    "/uploads/..%5C..%5Csecret.txt",
                ]
                for path in refused {
                    let response = try await api.get(path)
                    #expect(response.status == .badRequest, "\(path)")
                    #expect(response.text.contains("secret") == false)
                }
                let missing = [
                    "/uploads/escape.txt", "/uploads/outside/secret.txt", "/uploads/brand_logos",
                    "/uploads/brand_logos/none.png", "/uploads//etc/passwd", "/uploads/\(outside)/secret.txt",
                ]
                for path in missing {
                    let response = try await api.get(path)
                    #expect(response.status == .notFound, "\(path)")
                    #expect(response.envelope["code"] as? String == "RESOURCE_NOT_FOUND")
                }
            }
        }
    }
}
