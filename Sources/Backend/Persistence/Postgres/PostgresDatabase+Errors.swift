import NIOCore
import PostgresNIO

extension PostgresDatabase {
    /// SQLSTATEs after which the server has closed (or is closing) the connection.
    private static let connectionLostStates: Set<String> = ["57P01", "57P02", "57P03"]

    /// Whether `error` means the connection broke (so a read may be retried on another).
    static func isBrokenConnection(_ error: any Error) -> Bool {
        if let error = error as? PSQLError {
            switch error.code {
            case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown:
                return true
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                return state.hasPrefix("08") || connectionLostStates.contains(state)
            default:
                return false
            }
        }
        return error is ConnectionClosed || error is ChannelError || error is IOError
    }

    /// Translates `error` when it came from the driver, the pool or the lease timer; any other
    /// error (one a transaction's body threw) passes through unchanged.
    static func translate(_ error: any Error) -> any Error {
        if error is StoreError { return error }
        let typeName = String(reflecting: type(of: error))
        let fromDriver =
            error is PSQLError || error is LeaseTimedOut || error is ConnectionClosed || error is RowDecodingError
            || error is ChannelError
            || error is IOError || typeName.contains("ConnectionPoolError")
            || typeName.contains("PostgresDecodingError")
        return fromDriver ? storeError(error) : error
    }

    /// Translates a PostgreSQL failure into the store's error.
    ///
    /// Constraint violations map by SQLSTATE (and, for unique and check constraints, by the
    /// constraint's name to a sentence from ``ConstraintCatalog``); the server's message, which
    /// may quote the statement or values, stays in ``StoreError/underlying`` for logs.
    static func storeError(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        if error is LeaseTimedOut {
            return StoreError.unavailable("No database connection became available in time", underlying: error)
        }
        if error is RowDecodingError { return StoreError.failed(underlying: error) }
        if isBrokenConnection(error) { return StoreError.unavailable(underlying: error) }
        guard let psql = error as? PSQLError else {
            // The pool's own failures (circuit breaker open, shut down) carry no PSQLError.
            let typeName = String(reflecting: type(of: error))
            if typeName.contains("ConnectionPoolError") { return StoreError.unavailable(underlying: error) }
            return StoreError.failed(underlying: error)
        }
        switch psql.code {
        case .poolClosed, .queryCancelled, .sslUnsupported, .failedToAddSSLHandler:
            return StoreError.unavailable(underlying: psql)
        case .server:
            break
        default:
            return StoreError.failed(underlying: psql)
        }
        let state = psql.serverInfo?[.sqlState] ?? ""
        let constraint = psql.serverInfo?[.constraintName]
        switch state {
        case "23505":
            let detail = ConstraintCatalog.detail(forConstraint: constraint)
            return StoreError.conflict(detail ?? "The record conflicts with an existing one", underlying: psql)
        case "23503":
            return StoreError.invalidReference("A referenced record does not exist", underlying: psql)
        case "23514", "23502":
            let detail = ConstraintCatalog.detail(forConstraint: constraint)
            return StoreError.invalidValue(detail ?? "A value was rejected by the database", underlying: psql)
        case "40001", "40P01":
            return StoreError.conflict("The request conflicted with a concurrent change; retry it", underlying: psql)
        default:
            break
        }
        if state.hasPrefix("22") {
            return StoreError.invalidValue("A value was rejected by the database", underlying: psql)
        }
        if state.hasPrefix("08") || state.hasPrefix("53") || state.hasPrefix("57") {
            return StoreError.unavailable(underlying: psql)
        }
        return StoreError.failed(underlying: psql)
    }
}
