import PostgresNIO

/// A PostgreSQL row as ``OrderedCells``: each cell is decoded only when a ``PreparedRead`` reads
/// it. A layout's rows repeat the rack's 15 columns and carry a specification's and a model's
/// columns of which one set is `NULL`; decoding every cell up front (a `PostgresCell` and a
/// ``DatabaseValue``, a `String` per text cell) was a seventh of a worker's CPU in an uncached
/// layout read, most of it for cells nobody read.
struct PostgresCells: OrderedCells {
    /// The row's cells located once (a byte range per column), nothing decoded.
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) { self.row = PostgresRandomAccessRow(row) }

    var count: Int { row.count }

    func value(at index: Int) throws -> DatabaseValue { try PostgresDatabase.value(of: row[index]) }
}
