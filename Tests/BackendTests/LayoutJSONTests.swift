import Foundation
import NIOCore
import RackPlanning
import Testing

@testable import Backend

/// The layout's JSON written directly (``RackLayout/apiJSON()``) against `JSONEncoder.api`'s bytes,
/// the API's reference: every optional present and absent, strings that need escapes, numbers
/// in each of the encoder's spellings.
@Suite("Layout JSON written directly")
struct LayoutJSONTests {
    /// Every byte below 0x80 (control characters, quote, backslash, slash, DEL), then non-ASCII.
    static let awkward: String = {
        var text = ""
        for byte in UInt8(0)..<0x80 { text.unicodeScalars.append(Unicode.Scalar(byte)) }
        return text + "é\u{2028}😀\u{85} 19\" 'rack' C:\\path /uploads/x.png"
    }()

    static func everything(_ text: String, number: Double) -> RackLayout {
        let specification = DeviceSpecification(
            id: 7, brand: "Ubiquiti \(text)", model: "USW-48 \(text)", variant: "PoE \(text)", heightU: 1.5,
            widthType: .nineteenInch, depthMM: number, weightKG: 0.1, powerWatts: 1e16, heatOutputBTU: 1e-7,
            airflowPattern: .sideToSide, maxOperatingTempC: -0.0,
            typicalPorts: ["sfp+": 4, "port10": 1, "port9": 2, "Port2": 3, "_x": 5, "é": 6, text: 7],
            mountingType: "rails \(text)", source: .manufacturerSpec, sourceURL: "https://example.com/a/b?c=\(text)",
            confidence: .high, fetchedAt: "2024-01-01T00:00:00Z", lastUpdated: "2024-02-02T00:00:00Z")
        let model = CatalogModel(
            id: 9, brandID: 3, deviceTypeID: 4, name: "PowerEdge \(text)", variant: "R740 \(text)",
            description: "desc \(text)", releaseDate: "2019", endOfLife: "2029", heightU: 2, widthType: "19\"",
            depthMM: 715.5, weightKG: 28.1, powerWatts: 750, heatOutputBTU: 2559, airflowPattern: "front_to_back",
            maxOperatingTempC: 35, typicalPorts: ["eth": 4, "idrac": 1], mountingType: "rails",
            datasheetURL: "https://dell.example/ds.pdf", imageURL: "/uploads/r740.png", source: "manufacturer",
            confidence: "high", fetchedAt: "2024", lastUpdated: "2025",
            brand: .init(id: 3, name: "Dell \(text)", slug: "dell", logoURL: "/uploads/logos/dell.png"),
            deviceType: .init(id: 4, name: "Server", slug: "server", icon: "server \(text)", color: "#fff"),
            deviceCount: 12)
        let rack = Rack(
            id: 1, name: "Rack \(text)", location: "Basement \(text)", totalHeightU: 42, widthInches: .twentyThreeInch,
            depthMM: number, maxWeightKG: 123456789.125, maxPowerWatts: 2.5e-300, coolingType: "front-to-back \(text)",
            coolingCapacityBTU: 1e21, ambientTempC: -3.25, maxInletTempC: 27, airflowCFM: 0.30000000000000004,
            createdAt: "2024-01-01 00:00:00", updatedAt: "2024-01-02 \(text)")
        return RackLayout(
            rack: rack,
            positions: [
                RackPosition(
                    id: 1, rackID: 1,
                    device: Device(
                        id: 11, customName: "switch \(text)", specificationID: 7, serialNumber: "SN \(text)",
                        accessFrequency: .high, notes: "notes \(text)", specification: specification),
                    startU: 1, locked: true),
                RackPosition(
                    id: 2, rackID: 1, device: Device(id: 12, customName: "server", modelID: 9, catalogModel: model),
                    startU: 3),
                RackPosition(
                    id: 3, rackID: 1,
                    device: Device(
                        id: 13, specificationID: 7, modelID: 9, specification: specification, catalogModel: model),
                    startU: 6),
            ])
    }

    static func nothing() -> RackLayout {
        let specification = DeviceSpecification(id: 7, brand: "", model: "", heightU: 0)
        let model = CatalogModel(id: 9, brandID: 3, deviceTypeID: 4, name: "")
        return RackLayout(
            rack: Rack(id: 1, name: "", coolingCapacityBTU: nil),
            positions: [
                RackPosition(id: nil, rackID: 1, deviceID: 5, startU: 1),
                RackPosition(id: 2, rackID: 1, device: Device(id: 12), startU: 2),
                RackPosition(id: 3, rackID: 1, device: Device(id: 13, specification: specification), startU: 3),
                RackPosition(id: 4, rackID: 1, device: Device(id: 14, catalogModel: model), startU: 4),
                RackPosition(
                    id: 5, rackID: 1,
                    device: Device(
                        id: 15,
                        catalogModel: CatalogModel(
                            id: 10, brandID: 3, deviceTypeID: 4, name: "x", brand: .init(id: 3, name: "b", slug: "b"),
                            deviceType: .init(id: 4, name: "t", slug: "t"))),
                    startU: 5),
            ])
    }

    static func reference(_ layout: RackLayout) throws -> [UInt8] {
        [UInt8](try JSONEncoder.api.encode(layout))
    }

    static func direct(_ layout: RackLayout) throws -> [UInt8] {
        var buffer = try layout.apiJSON()
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    @Test(arguments: [
        700, 0.1, 1e-7, 1e16, -0.0, 1.2345678901234567e19, 3.14159, 1e300, 0, -1, -2_500, 999_999_999, 1e9,
        -999_999_999.5, 4.5e15,
    ])
    func everyOptionalPresentAndStringsNeedingEscapesWriteTheEncodersBytes(number: Double) throws {
        for text in [Self.awkward, "", "plain"] {
            let layout = Self.everything(text, number: number)
            #expect(try Self.direct(layout) == Self.reference(layout))
        }
    }

    @Test func everyOptionalAbsentWritesTheEncodersBytes() throws {
        let layout = Self.nothing()
        let direct = try Self.direct(layout)
        #expect(direct == (try Self.reference(layout)))
        // A proposed position's id is written as null, not left out.
        #expect(String(decoding: direct, as: UTF8.self).contains("\"id\":null"))
    }

    @Test func aRackWithoutPositionsWritesTheEncodersBytes() throws {
        let layout = RackLayout(rack: Rack(id: 3, name: "Empty"), positions: [])
        #expect(try Self.direct(layout) == Self.reference(layout))
    }

    @Test func aNonFiniteNumberIsRefusedAsTheEncoderRefusesIt() throws {
        for value in [Double.nan, .infinity, -.infinity] {
            let layout = RackLayout(rack: Rack(id: 3, name: "x", depthMM: value), positions: [])
            #expect(throws: NonFiniteNumber.self) { try layout.apiJSON() }
            #expect(throws: EncodingError.self) { try JSONEncoder.api.encode(layout) }
        }
    }
}
