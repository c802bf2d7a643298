import RackPlanning

/// A window of a list: `skip` rows, then at most `limit` (the API's `skip`/`limit`; the routes
/// validate their ranges).
public struct Page: Sendable, Hashable {
    public var skip: Int
    public var limit: Int

    public init(skip: Int = 0, limit: Int = 100) {
        self.skip = skip
        self.limit = limit
    }

    /// Every row (for internal reads such as a rack's connections).
    public static let all = Page(skip: 0, limit: Int(Int32.max))
}

/// `GET /devices` filters.
public struct DeviceFilter: Sendable, Hashable {
    public var specificationID: Int?
    public var modelID: Int?
    public var accessFrequency: AccessFrequency?

    public init(specificationID: Int? = nil, modelID: Int? = nil, accessFrequency: AccessFrequency? = nil) {
        self.specificationID = specificationID
        self.modelID = modelID
        self.accessFrequency = accessFrequency
    }
}

/// `GET /device-specs` filters: brand and model match by substring ignoring case, width and
/// source exactly.
public struct SpecificationFilter: Sendable, Hashable {
    public var brand: String?
    public var model: String?
    public var widthType: RackWidth?
    public var source: SpecSource?

    public init(brand: String? = nil, model: String? = nil, widthType: RackWidth? = nil, source: SpecSource? = nil) {
        self.brand = brand
        self.model = model
        self.widthType = widthType
        self.source = source
    }
}

/// `GET /brands` filters: `search` matches the name by substring ignoring case; a device type
/// (by id or slug) keeps brands with at least one model of that type.
public struct BrandFilter: Sendable, Hashable {
    public var search: String?
    public var deviceTypeID: Int?
    public var deviceTypeSlug: String?

    public init(search: String? = nil, deviceTypeID: Int? = nil, deviceTypeSlug: String? = nil) {
        self.search = search
        self.deviceTypeID = deviceTypeID
        self.deviceTypeSlug = deviceTypeSlug
    }
}

/// `GET /models` filters: `search` matches the name by substring ignoring case.
public struct ModelFilter: Sendable, Hashable {
    public var brandID: Int?
    public var deviceTypeID: Int?
    public var search: String?

    public init(brandID: Int? = nil, deviceTypeID: Int? = nil, search: String? = nil) {
        self.brandID = brandID
        self.deviceTypeID = deviceTypeID
        self.search = search
    }
}

/// `GET /connections` filters: `rackID` keeps connections with either end placed in that rack.
public struct ConnectionFilter: Sendable, Hashable {
    public var rackID: Int?
    public var fromDeviceID: Int?
    public var toDeviceID: Int?

    public init(rackID: Int? = nil, fromDeviceID: Int? = nil, toDeviceID: Int? = nil) {
        self.rackID = rackID
        self.fromDeviceID = fromDeviceID
        self.toDeviceID = toDeviceID
    }
}

/// A `WHERE` clause assembled from optional filters, with its binds in order.
struct WhereClause {
    private(set) var conditions: [String] = []
    private(set) var binds: [DatabaseValue] = []

    mutating func add(_ condition: String, _ values: DatabaseValue...) {
        conditions.append(condition)
        binds.append(contentsOf: values)
    }

    /// `column` contains `text`, ignoring case (ASCII case on SQLite); `%` and `_` in the text
    /// match literally.
    mutating func addContains(_ column: String, _ text: String) {
        add("LOWER(\(column)) LIKE ? ESCAPE '\\'", .text(Self.containsPattern(text)))
    }

    /// `WHERE a AND b …`, or nothing.
    var sql: String { conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ") }

    static func containsPattern(_ text: String) -> String {
        var escaped = ""
        for character in text.lowercased() {
            if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
            escaped.append(character)
        }
        return "%\(escaped)%"
    }
}

extension Page {
    /// ` LIMIT ? OFFSET ?` and its binds.
    var sql: String { " LIMIT ? OFFSET ?" }
    var binds: [DatabaseValue] { [DatabaseValue(max(0, limit)), DatabaseValue(max(0, skip))] }
}
