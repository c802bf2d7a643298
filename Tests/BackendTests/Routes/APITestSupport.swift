import Backend
import Foundation
import Hummingbird
import Logging
import HummingbirdTesting
import NIOCore
import RackPlanning
import Testing

/// The backend's router over a fresh, migrated store, driven in-process (HummingbirdTesting's
/// router framework: real routing, middleware and bodies, no sockets).
enum APITest {
    /// Access lines and expected 4xx/5xx warnings stay out of the test output.
    static let quietLogger: Logger = {
        var logger = Logger(label: "backend.tests.api")
        logger.logLevel = .error
        return logger
    }()

    /// Runs `body` with a client for the API over a fresh database of `kind`.
    /// - Parameters:
    ///   - kind: which driver (SQLite by default; PostgreSQL under `scripts/test.sh`).
    ///   - tokens: write tokens; `nil` leaves writes open.
    ///   - cache: the result cache (none by default).
    ///   - configure: changes to the services before the router is built.
    static func withAPI<T: Sendable>(
        _ kind: StoreKind = .sqlite,
        tokens: [String]? = nil,
        cache: (any ResultCache)? = nil,
        configure: @Sendable (inout BackendServices) -> Void = { _ in },
        _ body: @Sendable (APIClient, BackendServices) async throws -> T
    ) async throws -> T {
        try await TestDatabases.withTemporaryDirectory { uploads in
            try await TestDatabases.withStore(kind) { store in
                var services = BackendServices(
                    store: store, cache: cache ?? NoResultCache(), uploadsDirectory: uploads,
                    tokens: try tokens.map { try APITokens(entries: $0) })
                configure(&services)
                let finalServices = services
                let app = Application(router: BackendRouter.build(finalServices), logger: quietLogger)
                return try await app.test(.router) { client in
                    try await body(APIClient(client: client), finalServices)
                }
            }
        }
    }
}

/// A small JSON client over HummingbirdTesting's.
struct APIClient: Sendable {
    let client: any TestClientProtocol
    /// Sent as `Authorization: Bearer ...` on every request when set.
    var token: String?

    init(client: any TestClientProtocol, token: String? = nil) {
        self.client = client
        self.token = token
    }

    /// The same client presenting `token`.
    func authorized(_ token: String?) -> APIClient {
        APIClient(client: client, token: token)
    }

    func request(
        _ method: HTTPRequest.Method, _ uri: String, body: ByteBuffer? = nil, headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await client.executeRequest(uri: uri, method: method, headers: headers, body: body)
    }

    func get(_ uri: String) async throws -> TestResponse {
        try await request(.get, uri)
    }

    func delete(_ uri: String) async throws -> TestResponse {
        try await request(.delete, uri)
    }

    /// `POST` a JSON object given as a dictionary (`[:]` for an empty body object).
    func post(_ uri: String, _ json: [String: any Sendable]? = nil) async throws -> TestResponse {
        try await request(.post, uri, body: json.map(Self.encode))
    }

    /// `POST` a raw body (malformed JSON, arrays, ...).
    func post(_ uri: String, raw: String) async throws -> TestResponse {
        try await request(.post, uri, body: ByteBuffer(string: raw))
    }

    func put(_ uri: String, _ json: [String: any Sendable]) async throws -> TestResponse {
        try await request(.put, uri, body: Self.encode(json))
    }

    static func encode(_ json: [String: any Sendable]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: json))
    }
}

extension TestResponse {
    /// The body decoded as `T` (a failed decode fails the test with the body in the message).
    func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
        } catch {
            Issue.record("cannot decode \(T.self) from \(String(buffer: body)): \(error)")
            throw error
        }
    }

    /// The body as a JSON object.
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
    }

    /// The body as a JSON array.
    var array: [Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [Any] ?? []
    }

    /// The error envelope's `error` object.
    var envelope: [String: Any] { object["error"] as? [String: Any] ?? [:] }

    /// The `field` names of a 422's envelope.
    var errorFields: [String] {
        let details = envelope["details"] as? [String: Any]
        let errors = details?["errors"] as? [[String: Any]] ?? []
        return errors.compactMap { $0["field"] as? String }
    }

    var text: String { String(buffer: body) }
}
