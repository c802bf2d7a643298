import SQLiteNIO

extension SQLiteDatabase {
    private static let uniqueReasons: [SQLiteError.Reason] = [
        .constraintUniqueFailed, .constraintPrimaryKeyFailed, .constraintUniqueRowIDFailed,
    ]
    private static let valueReasons: [SQLiteError.Reason] = [
        .constraint, .constraintCheckFailed, .constraintNotNullFailed, .constraintStrictDataTypeFailed, .mismatch,
        .tooBig, .range,
    ]
    private static let unavailableReasons: [SQLiteError.Reason] = [
        .busy, .busyTimeout, .busyInRecovery, .busyInSnapshot, .locked, .lockedBySharedCache, .cantOpen,
        .cantOpenDirectory, .cantOpenInvalidPath, .ioError, .full, .readOnly, .readonlyCantLock,
        .readonlyDirectory, .readonlyInRecovery, .readonlyInRollback, .readonlyBackingMoved, .notADatabase,
        .corrupt, .permission, .noLFS, .misuse,
    ]

    /// Translates a SQLite failure into the store's error; the SQLite message (which may name
    /// tables) stays in ``StoreError/underlying``.
    static func storeError(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        guard let sqlite = error as? SQLiteError else {
            return StoreError.failed(underlying: error)
        }
        let reason = sqlite.reason
        if uniqueReasons.contains(reason) {
            let detail = ConstraintCatalog.detail(forSQLiteMessage: sqlite.message)
            return StoreError.conflict(detail ?? "The record conflicts with an existing one", underlying: sqlite)
        }
        if reason == .constraintForeignKeyFailed {
            return StoreError.invalidReference("A referenced record does not exist", underlying: sqlite)
        }
        if valueReasons.contains(reason) {
            let detail = ConstraintCatalog.detail(forSQLiteMessage: sqlite.message)
            return StoreError.invalidValue(detail ?? "A value was rejected by the database", underlying: sqlite)
        }
        if unavailableReasons.contains(reason) || String(describing: reason).hasPrefix("ioError") {
            return StoreError.unavailable(underlying: sqlite)
        }
        return StoreError.failed(underlying: sqlite)
    }
}
