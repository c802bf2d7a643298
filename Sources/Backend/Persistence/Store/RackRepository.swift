import RackPlanning

/// The store as the services see it: every entity of the rack API, with the list filters,
/// searches, counts and layout reads the routes need.
///
/// Getters throw ``StoreError/notFound`` for an unknown id (or return `nil` where absence is
/// an answer, like ``position(deviceID:)``); writes throw ``StoreError/conflict`` for
/// duplicates and deletes of records still in use, ``StoreError/invalidReference`` naming a
/// missing referenced record, and ``StoreError/unavailable`` when the database is down.
/// Creates ignore the `id` and timestamps they are given; updates write every stored field of
/// the value (the services merge a partial `PUT` into the current record first) and return the
/// stored record. Lists are ordered by id.
///
/// Anything that changes what a rack's thermal analysis reads (its positions, a placed
/// device, the specification or model of a placed device) also moves that rack's
/// `updated_at`, in the same transaction, so a cache keyed by it can never serve a result
/// computed before the change.
public protocol RackRepository: Sendable {
    /// Runs `body` in one transaction; the repository it receives works inside it.
    /// Nested calls are savepoints.
    func transaction<T: Sendable>(_ body: @Sendable (any RackRepository) async throws -> T) async throws -> T

    /// Checks the database answers, for readiness probes.
    func ping() async throws

    // MARK: Racks
    func racks(page: Page) async throws -> [Rack]
    func rack(id: Int) async throws -> Rack
    func createRack(_ rack: Rack) async throws -> Rack
    func updateRack(_ rack: Rack) async throws -> Rack
    /// Deletes the rack and its positions (the devices stay).
    func deleteRack(id: Int) async throws
    /// Reads the rack and, inside a transaction, holds it so concurrent placements in it queue
    /// (PostgreSQL `FOR UPDATE`; SQLite's write lock already does). Use before checking and
    /// writing a placement.
    func lockRack(id: Int) async throws -> Rack
    /// The rack with its positions (by `start_u`), each embedding its device and that
    /// device's specification or catalog model.
    func layout(rackID: Int) async throws -> RackLayout

    // MARK: Positions
    func position(id: Int) async throws -> RackPosition
    /// Where the device is placed, if anywhere.
    func position(deviceID: Int) async throws -> RackPosition?
    /// - Throws: ``StoreError/conflict`` when the device is already placed anywhere.
    func createPosition(_ position: RackPosition) async throws -> RackPosition
    /// Moves (rack, `start_u`) or locks/unlocks a position.
    func updatePosition(_ position: RackPosition) async throws -> RackPosition
    /// - Throws: ``StoreError/notFound`` when there is no such position in that rack.
    func deletePosition(id: Int, rackID: Int) async throws

    // MARK: Devices
    func devices(filter: DeviceFilter, page: Page) async throws -> [Device]
    func device(id: Int) async throws -> Device
    /// The devices with these ids that exist, in id order.
    func devices(ids: [Int]) async throws -> [Device]
    func createDevice(_ device: Device) async throws -> Device
    /// Creates all or none (the bulk endpoint).
    func createDevices(_ devices: [Device]) async throws -> [Device]
    func updateDevice(_ device: Device) async throws -> Device
    /// Deletes the device with its position and every connection to or from it.
    func deleteDevice(id: Int) async throws

    // MARK: Device specifications
    func specifications(filter: SpecificationFilter, page: Page) async throws -> [DeviceSpecification]
    func specification(id: Int) async throws -> DeviceSpecification
    /// The specification with exactly this brand, model and variant (`nil` variant = none).
    func specification(brand: String, model: String, variant: String?) async throws -> DeviceSpecification?
    /// Specifications whose brand or model contains `query`, ignoring case, at most `limit`.
    func searchSpecifications(_ query: String, limit: Int) async throws -> [DeviceSpecification]
    /// Specifications whose brand contains `brand` and whose model contains `model`, ignoring
    /// case (quick-add's match), at most `limit`.
    func matchSpecifications(brand: String, model: String, limit: Int) async throws -> [DeviceSpecification]
    /// Stores a specification, deriving `heat_output_btu` from the power draw when absent.
    func createSpecification(_ specification: DeviceSpecification) async throws -> DeviceSpecification
    func updateSpecification(_ specification: DeviceSpecification) async throws -> DeviceSpecification
    /// - Throws: ``StoreError/conflict`` while devices use it.
    func deleteSpecification(id: Int) async throws

    // MARK: Device types
    func deviceTypes(page: Page) async throws -> [DeviceType]
    func deviceType(id: Int) async throws -> DeviceType
    func createDeviceType(_ deviceType: DeviceType) async throws -> DeviceType
    func updateDeviceType(_ deviceType: DeviceType) async throws -> DeviceType
    /// - Throws: ``StoreError/conflict`` while models use it.
    func deleteDeviceType(id: Int) async throws

    // MARK: Brands
    func brands(filter: BrandFilter, page: Page) async throws -> [Brand]
    func brand(id: Int) async throws -> Brand
    /// Inside a transaction: makes every other transaction that locks or writes the brand wait
    /// until this one ends, so a read-modify-write of it (its logo) cannot interleave with
    /// another (PostgreSQL `SELECT … FOR UPDATE`; SQLite serializes write transactions already).
    /// - Throws: ``StoreError/notFound`` for an unknown brand.
    func lockBrand(id: Int) async throws
    /// Brands whose name contains `query`, ignoring case, at most `limit`.
    func searchBrands(_ query: String, limit: Int) async throws -> [Brand]
    func createBrand(_ brand: Brand) async throws -> Brand
    func updateBrand(_ brand: Brand) async throws -> Brand
    /// - Throws: ``StoreError/conflict`` while models use it.
    func deleteBrand(id: Int) async throws

    // MARK: Catalog models
    func models(filter: ModelFilter, page: Page) async throws -> [CatalogModel]
    func model(id: Int) async throws -> CatalogModel
    /// Models whose name contains `query`, ignoring case, at most `limit`.
    func searchModels(_ query: String, limit: Int) async throws -> [CatalogModel]
    func createModel(_ model: CatalogModel) async throws -> CatalogModel
    func updateModel(_ model: CatalogModel) async throws -> CatalogModel
    /// - Throws: ``StoreError/conflict`` while devices use it.
    func deleteModel(id: Int) async throws

    // MARK: Connections
    func connections(filter: ConnectionFilter, page: Page) async throws -> [Connection]
    func connection(id: Int) async throws -> Connection
    func createConnection(_ connection: Connection) async throws -> Connection
    func updateConnection(_ connection: Connection) async throws -> Connection
    func deleteConnection(id: Int) async throws
}
