import ArgumentParser
import Backend
import Foundation

/// `homerack-backend hash-token`: reads an API token from standard input and prints its
/// `sha256:<hex>` digest, the form `API_TOKENS` accepts, so the token itself never has to sit in
/// a configuration file.
///
/// ```sh
/// openssl rand -hex 32 | tee token.txt | homerack-backend hash-token
/// ```
struct HashTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-token",
        abstract: "Print the sha256:<hex> digest of the token read from standard input, for API_TOKENS.")

    func run() throws {
        if isatty(STDIN_FILENO) == 1 {
            FileHandle.standardError.write(Data("token: ".utf8))
        }
        let token = (readLine(strippingNewline: true) ?? "").trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else {
            throw CommandFailure("no token on standard input")
        }
        print(APITokens.digestEntry(for: token))
    }
}
