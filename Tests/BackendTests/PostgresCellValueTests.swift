import NIOCore
import PostgresNIO
import Testing

@testable import Backend

/// `PostgresDatabase.value(of:)` reads common cells straight from their bytes; each of those
/// readings must be the driver's own, and everything else must still go through the driver.
@Suite("Database: PostgreSQL cell values")
struct PostgresCellValueTests {
    private func cell(
        _ bytes: ByteBuffer?, _ type: PostgresDataType, _ format: PostgresFormat = .binary
    ) -> PostgresCell {
        PostgresCell(bytes: bytes, dataType: type, format: format, columnName: "c", columnIndex: 0)
    }

    private func binary<T: FixedWidthInteger>(_ value: T) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(value)
        return buffer
    }

    @Test func integersInEveryWidthReadAsTheDriverReadsThem() throws {
        let cases: [(ByteBuffer, PostgresDataType)] = [
            (binary(Int64.max), .int8), (binary(Int64(-42)), .int8), (binary(Int32.min), .int4),
            (binary(Int32(7)), .int4), (binary(Int16(-3)), .int2),
        ]
        for (bytes, type) in cases {
            let expected = DatabaseValue.integer(try cell(bytes, type).decode(Int64.self))
            #expect(try PostgresDatabase.value(of: cell(bytes, type)) == expected)
        }
    }

    @Test func doublesReadAsTheDriverReadsThem() throws {
        for number in [0.0, -0.0, 1.5, 2_450.75, -1e300, .pi] {
            let bytes = binary(number.bitPattern)
            let expected = DatabaseValue.real(try cell(bytes, .float8).decode(Double.self))
            #expect(try PostgresDatabase.value(of: cell(bytes, .float8)) == expected)
        }
    }

    @Test func textOfEachTextTypeReadsAsTheDriverReadsIt() throws {
        for type in [PostgresDataType.text, .varchar, .bpchar, .name] {
            for format in [PostgresFormat.binary, .text] {
                for text in ["", "Front-to-Back", "19\"", "naïve ✓", "\u{1F600}"] {
                    let bytes = ByteBuffer(string: text)
                    #expect(try PostgresDatabase.value(of: cell(bytes, type, format)) == .text(text))
                }
            }
        }
        // Bytes that are not UTF-8 are repaired the way the driver repairs them.
        let invalid = ByteBuffer(bytes: [0x66, 0xFF, 0x6F])
        let expected = DatabaseValue.text(try cell(invalid, .text).decode(String.self))
        #expect(try PostgresDatabase.value(of: cell(invalid, .text)) == expected)
    }

    @Test func otherShapesGoThroughTheDriver() throws {
        // Text-format integers, a float4, a bool, NULL.
        #expect(try PostgresDatabase.value(of: cell(ByteBuffer(string: "12"), .int8, .text)) == .integer(12))
        #expect(try PostgresDatabase.value(of: cell(binary(Float(0.5).bitPattern), .float4)) == .real(0.5))
        #expect(try PostgresDatabase.value(of: cell(ByteBuffer(bytes: [1]), .bool)) == .bool(true))
        #expect(try PostgresDatabase.value(of: cell(nil, .int8)) == .null)
    }

    @Test func aMalformedIntegerFailsWithTheDriversError() {
        // Three bytes are no int4: the direct reading declines, and the driver's decoder throws.
        #expect(throws: PostgresDecodingError.self) {
            try PostgresDatabase.value(of: cell(ByteBuffer(bytes: [0, 0, 1]), .int4))
        }
    }
}
