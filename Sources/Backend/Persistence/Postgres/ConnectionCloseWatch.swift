import PostgresNIO
import Synchronization

/// Ends the statements waiting on a PostgreSQL connection when that connection closes, through
/// one close callback per connection.
///
/// A statement written to a connection that is closing may never complete, so each waits for its
/// result or the connection's close, whichever comes first. Each statement used to add its own
/// callback to the connection's `closeFuture`; those callbacks stay until the connection closes,
/// and each kept its statement's result alive through the promise it captured, so a worker's
/// memory grew by every result it had read (about 16 KB per uncached layout: 300 MB in a 12 s
/// benchmark, and page faults a tenth of its CPU). Here a statement's handler is dropped as soon
/// as the statement ends.
final class ConnectionCloseWatch: Sendable {
    /// The watch every connection of the process shares.
    static let shared = ConnectionCloseWatch()

    /// A statement's registration: ``end(_:)`` drops its handler.
    struct Token: Sendable {
        fileprivate let connection: ObjectIdentifier
        fileprivate let id: Int
    }

    private struct Watched {
        /// Tells this connection from a later one at the same address.
        weak var connection: PostgresConnection?
        var nextID = 0
        var handlers: [Int: @Sendable () -> Void] = [:]
    }

    private let watched = Mutex<[ObjectIdentifier: Watched]>([:])

    /// Runs `onClose` if `connection` closes before ``end(_:)`` is called with the returned token.
    /// The first statement on a connection registers the connection's one close callback.
    func watch(_ connection: PostgresConnection, onClose: @escaping @Sendable () -> Void) -> Token {
        let key = ObjectIdentifier(connection)
        let (id, isNew) = watched.withLock { table -> (Int, Bool) in
            var entry = table[key] ?? Watched()
            let isNew = entry.connection !== connection
            if isNew {
                // A connection freed before its close callback ran left this entry; it has no
                // handlers left (a waiting statement holds its connection), so it is replaced.
                entry = Watched(connection: connection)
            }
            let id = entry.nextID
            entry.nextID += 1
            entry.handlers[id] = onClose
            table[key] = entry
            return (id, isNew)
        }
        if isNew {
            connection.closeFuture.whenComplete { [weak connection] _ in
                self.closed(key, connection: connection)
            }
        }
        return Token(connection: key, id: id)
    }

    /// Drops the statement's handler (its statement has its outcome).
    func end(_ token: Token) {
        _ = watched.withLock { $0[token.connection]?.handlers.removeValue(forKey: token.id) }
    }

    /// How many statements are being watched now, over all connections (for tests).
    var watchedStatements: Int { watched.withLock { $0.values.reduce(0) { $0 + $1.handlers.count } } }

    /// How many statements on `connection` are being watched now (for tests).
    func watchedStatements(on connection: PostgresConnection) -> Int {
        watched.withLock { table in
            guard let entry = table[ObjectIdentifier(connection)], entry.connection === connection else { return 0 }
            return entry.handlers.count
        }
    }

    private func closed(_ key: ObjectIdentifier, connection: PostgresConnection?) {
        let handlers = watched.withLock { table -> [@Sendable () -> Void] in
            // Only this connection's entry: a newer connection may have taken the address.
            guard let entry = table[key], entry.connection === connection else { return [] }
            table[key] = nil
            return Array(entry.handlers.values)
        }
        for handler in handlers { handler() }
    }
}
