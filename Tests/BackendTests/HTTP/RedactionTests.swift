import Testing

@testable import Backend

@Suite("HTTP: redaction of secrets")
struct RedactionTests {
    @Test(arguments: [
        ("postgres://app:hunter2@db:5432/homerack", "postgres://app:***@db:5432/homerack"),
        ("redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"),
        ("connect postgresql://u:p%40ss@h/db failed", "connect postgresql://u:***@h/db failed"),
        // An unescaped @ in the password: masked whole, not up to its first @.
        ("postgres://app:hun@ter2@db/homerack", "postgres://app:***@db/homerack"),
        (#"{"url":"postgres://a:b@h/d","next":"x"}"#, #"{"url":"postgres://a:***@h/d","next":"x"}"#),
    ])
    func urlPasswordsAreMasked(text: String, expected: String) {
        #expect(Redaction.redact(text) == expected)
    }

    @Test func urlsWithoutPasswordsAreLeftAlone() {
        for text in ["postgres://app@db/homerack", "https://example.com:8443/path", "redis://cache:6379"] {
            #expect(Redaction.redact(text) == text)
        }
    }

    @Test func bearerTokensAreMasked() {
        #expect(Redaction.redact("Authorization: Bearer abc.DEF-123_~+/=") == "Authorization: Bearer ***")
        #expect(Redaction.redact("got bearer xyz from client") == "got bearer *** from client")
    }

    @Test(arguments: [
        ("password=hunter2 user=app", "password=*** user=app"),
        ("db_password: hunter2, next", "db_password: ***, next"),
        ("API_TOKENS=tok1 LOG_LEVEL=info", "API_TOKENS=*** LOG_LEVEL=info"),
        ("client_secret='a b c'", "client_secret='***'"),
        (#"{"password":"hunter2","user":"app"}"#, #"{"password":"***","user":"app"}"#),
        (#"{"api_key": "k-123"}"#, #"{"api_key": "***"}"#),
    ])
    func secretPairsAreMasked(text: String, expected: String) {
        #expect(Redaction.redact(text) == expected)
    }

    @Test func textWithoutSecretsSkipsThePatterns() {
        #expect(!Redaction.mayContainSecret("GET /api/racks/{id} 200"))
        #expect(Redaction.mayContainSecret("BeArEr x"))
        #expect(Redaction.mayContainSecret("a=b"))
        #expect(Redaction.redact("GET /api/racks/{id} 200") == "GET /api/racks/{id} 200")
    }
}
