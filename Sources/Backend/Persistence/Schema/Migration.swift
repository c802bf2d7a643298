/// One versioned step of the schema: statements run in order, in the migrating transaction.
///
/// Statements are kept apart because SQLite prepares one statement per call. A migration is
/// never edited once released; a change is a new version.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    /// The statements for a dialect (most are the same text; ``SQLDialect`` supplies the rest).
    public let statements: @Sendable (SQLDialect) -> [String]

    public init(version: Int, name: String, statements: @escaping @Sendable (SQLDialect) -> [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

extension Migration {
    /// Every migration of this build, oldest first.
    public static let all: [Migration] = [initialSchema]

    /// The latest schema version this build knows.
    public static var latestVersion: Int { all.map(\.version).max() ?? 0 }

    /// Version 1: every entity of the rack API.
    ///
    /// Integrity lives here rather than in code: unique names and slugs; a specification's
    /// (brand, model, variant) and a model's (brand, name, variant) unique with a missing
    /// variant counting as `''`; a device referencing exactly one of a specification or a
    /// model; positions and connections cascading away with their rack or devices (so no
    /// connection dangles); a device in at most one position; a specification, model, brand
    /// or device type that is still referenced cannot be deleted (409).
    static let initialSchema = Migration(version: 1, name: "initial schema") { dialect in
        let id = dialect.identityPrimaryKey
        return [
            """
            CREATE TABLE racks (
                id \(id),
                name TEXT NOT NULL,
                location TEXT,
                total_height_u INTEGER NOT NULL DEFAULT 42,
                width_inches TEXT NOT NULL DEFAULT '19"',
                depth_mm DOUBLE PRECISION NOT NULL DEFAULT 700,
                max_weight_kg DOUBLE PRECISION NOT NULL DEFAULT 500,
                max_power_watts DOUBLE PRECISION NOT NULL DEFAULT 5000,
                cooling_type TEXT NOT NULL DEFAULT 'front-to-back',
                cooling_capacity_btu DOUBLE PRECISION DEFAULT 17000,
                ambient_temp_c DOUBLE PRECISION NOT NULL DEFAULT 22,
                max_inlet_temp_c DOUBLE PRECISION NOT NULL DEFAULT 27,
                airflow_cfm DOUBLE PRECISION,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT racks_total_height_u_check CHECK (total_height_u >= 1)
            )
            """,
            """
            CREATE TABLE device_specifications (
                id \(id),
                brand TEXT NOT NULL,
                model TEXT NOT NULL,
                variant TEXT,
                height_u DOUBLE PRECISION NOT NULL,
                width_type TEXT,
                depth_mm DOUBLE PRECISION,
                weight_kg DOUBLE PRECISION,
                power_watts DOUBLE PRECISION,
                heat_output_btu DOUBLE PRECISION,
                airflow_pattern TEXT NOT NULL DEFAULT 'front_to_back',
                max_operating_temp_c DOUBLE PRECISION,
                typical_ports TEXT,
                mounting_type TEXT,
                source TEXT NOT NULL DEFAULT 'user_custom',
                source_url TEXT,
                confidence TEXT NOT NULL DEFAULT 'medium',
                fetched_at TEXT,
                last_updated TEXT NOT NULL
            )
            """,
            """
            CREATE UNIQUE INDEX device_specifications_identity
                ON device_specifications (brand, model, (COALESCE(variant, '')))
            """,
            """
            CREATE TABLE device_types (
                id \(id),
                name TEXT NOT NULL,
                slug TEXT NOT NULL,
                icon TEXT,
                description TEXT,
                color TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT device_types_name_key UNIQUE (name),
                CONSTRAINT device_types_slug_key UNIQUE (slug)
            )
            """,
            """
            CREATE TABLE brands (
                id \(id),
                name TEXT NOT NULL,
                slug TEXT NOT NULL,
                website TEXT,
                support_url TEXT,
                logo_url TEXT,
                description TEXT,
                founded_year INTEGER,
                headquarters TEXT,
                last_fetched_at TEXT,
                fetch_confidence TEXT,
                fetch_source TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                CONSTRAINT brands_name_key UNIQUE (name),
                CONSTRAINT brands_slug_key UNIQUE (slug)
            )
            """,
            """
            CREATE TABLE models (
                id \(id),
                brand_id BIGINT NOT NULL CONSTRAINT models_brand_fk REFERENCES brands (id),
                device_type_id BIGINT NOT NULL CONSTRAINT models_device_type_fk REFERENCES device_types (id),
                name TEXT NOT NULL,
                variant TEXT,
                description TEXT,
                release_date TEXT,
                end_of_life TEXT,
                height_u DOUBLE PRECISION,
                width_type TEXT,
                depth_mm DOUBLE PRECISION,
                weight_kg DOUBLE PRECISION,
                power_watts DOUBLE PRECISION,
                heat_output_btu DOUBLE PRECISION,
                airflow_pattern TEXT,
                max_operating_temp_c DOUBLE PRECISION,
                typical_ports TEXT,
                mounting_type TEXT,
                datasheet_url TEXT,
                image_url TEXT,
                source TEXT,
                confidence TEXT,
                fetched_at TEXT,
                last_updated TEXT NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX models_identity ON models (brand_id, name, (COALESCE(variant, '')))",
            "CREATE INDEX models_device_type_id_idx ON models (device_type_id)",
            """
            CREATE TABLE devices (
                id \(id),
                custom_name TEXT,
                specification_id BIGINT CONSTRAINT devices_specification_fk REFERENCES device_specifications (id),
                model_id BIGINT CONSTRAINT devices_model_fk REFERENCES models (id),
                serial_number TEXT,
                access_frequency TEXT NOT NULL DEFAULT 'medium',
                notes TEXT,
                CONSTRAINT devices_one_reference CHECK (
                    (specification_id IS NOT NULL AND model_id IS NULL)
                    OR (specification_id IS NULL AND model_id IS NOT NULL)
                )
            )
            """,
            "CREATE INDEX devices_specification_id_idx ON devices (specification_id)",
            "CREATE INDEX devices_model_id_idx ON devices (model_id)",
            """
            CREATE TABLE rack_positions (
                id \(id),
                rack_id BIGINT NOT NULL CONSTRAINT rack_positions_rack_fk REFERENCES racks (id) ON DELETE CASCADE,
                device_id BIGINT NOT NULL CONSTRAINT rack_positions_device_fk REFERENCES devices (id) ON DELETE CASCADE,
                start_u INTEGER NOT NULL,
                locked BOOLEAN NOT NULL DEFAULT FALSE,
                CONSTRAINT rack_positions_device_key UNIQUE (device_id),
                CONSTRAINT rack_positions_start_u_check CHECK (start_u >= 1)
            )
            """,
            "CREATE INDEX rack_positions_rack_id_idx ON rack_positions (rack_id)",
            """
            CREATE TABLE connections (
                id \(id),
                from_device_id BIGINT NOT NULL
                    CONSTRAINT connections_from_device_fk REFERENCES devices (id) ON DELETE CASCADE,
                to_device_id BIGINT NOT NULL
                    CONSTRAINT connections_to_device_fk REFERENCES devices (id) ON DELETE CASCADE,
                from_port TEXT,
                to_port TEXT,
                cable_type TEXT NOT NULL DEFAULT 'Cat6',
                cable_length_m DOUBLE PRECISION,
                routing_path TEXT NOT NULL DEFAULT 'direct',
                notes TEXT,
                CONSTRAINT connections_distinct_ends CHECK (from_device_id <> to_device_id)
            )
            """,
            "CREATE INDEX connections_from_device_id_idx ON connections (from_device_id)",
            "CREATE INDEX connections_to_device_id_idx ON connections (to_device_id)",
        ]
    }
}
