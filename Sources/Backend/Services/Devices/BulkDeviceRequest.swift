import Foundation
import Hummingbird
import RackPlanning

/// `POST /devices/bulk?specification_id&quantity&name_prefix`: several identical devices of one
/// specification, named `"<prefix> 1"` … `"<prefix> N"`.
///
/// The default prefix is the specification's display name ("Ubiquiti USW-Pro-24", with the
/// variant after it when there is one: "Ubiquiti USW-Pro-24 PoE"), so bulk devices are told
/// apart by number rather than left unnamed (the original left them without a name when no
/// prefix was given). Names are at most 200 characters: a given prefix too long for
/// `"<prefix> <quantity>"` is a 422 on `name_prefix`; the default one is shortened to fit.
struct BulkDeviceRequest: Sendable {
    /// How many devices one request may create.
    static let quantityRange = 1...100
    /// The longest device name (`custom_name`, 1–200 characters).
    static let maximumNameLength = 200

    var specificationID: Int
    var quantity: Int
    /// The prefix the request gave (trimmed); `nil` for the default.
    var namePrefix: String?

    /// Reads and validates the query.
    /// - Throws: 422 for a missing or non-integer `specification_id` or `quantity`, a quantity
    ///   outside 1–100, or a `name_prefix` too long for the names it makes.
    init(request: Request) throws {
        guard let specificationID = try request.intQuery("specification_id") else {
            throw APIError.invalidField("specification_id", "Field required", type: "missing")
        }
        guard let quantity = try request.intQuery("quantity", in: Self.quantityRange) else {
            throw APIError.invalidField("quantity", "Field required", type: "missing")
        }
        let prefix = request.stringQuery("name_prefix")?.trimmingCharacters(in: .whitespaces)
        self.specificationID = specificationID
        self.quantity = quantity
        self.namePrefix = prefix?.isEmpty == true ? nil : prefix
        if let namePrefix, namePrefix.count > Self.longestPrefix(quantity: quantity) {
            throw APIError.invalidField(
                "name_prefix",
                "String should have at most \(Self.longestPrefix(quantity: quantity)) characters "
                    + "for \(quantity) devices (names are at most \(Self.maximumNameLength))",
                type: "string_too_long")
        }
    }

    /// The devices to create, not yet stored.
    /// - Parameter specification: the specification they are instances of (it exists).
    func devices(of specification: DeviceSpecification) -> [Device] {
        let prefix = namePrefix ?? String(specification.displayName.prefix(Self.longestPrefix(quantity: quantity)))
        return (1...quantity).map { number in
            Device(id: 0, customName: "\(prefix) \(number)", specificationID: specification.id)
        }
    }

    /// The longest prefix whose `"<prefix> <quantity>"` fits in a name.
    static func longestPrefix(quantity: Int) -> Int {
        maximumNameLength - " \(quantity)".count
    }
}
