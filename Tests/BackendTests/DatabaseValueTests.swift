import Backend
import Testing

@Suite("Database values")
struct DatabaseValueTests {
    @Test func aMissingColumnReadsAsNull() {
        let row = DatabaseRow(values: ["id": .integer(1)])
        #expect(row["id"] == .integer(1))
        #expect(row["name"] == .null)
    }
}
