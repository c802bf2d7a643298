/// A Prometheus text exposition, parsed just enough to add several together: families (with
/// their `# HELP` and `# TYPE`) and each family's samples, keyed by sample name and labels.
///
/// Summing is the merge the supervisor does over its workers (see ``WorkerMetricsAggregate``):
/// it keeps labels as written, so two workers' `http_requests_total{route="/api/racks"}` lines
/// add up as long as both render the same labels in the same order, which one binary does.
public struct MetricsExposition: Sendable, Hashable {
    public enum FamilyType: String, Sendable, Hashable {
        case counter, gauge, histogram, summary, untyped

        /// Whether a worker's last values of this family stay part of the total after it exits:
        /// counters and histograms only grow, so a recycled worker's share must not vanish.
        var isCumulative: Bool {
            switch self {
            case .counter, .histogram, .summary: true
            case .gauge, .untyped: false
            }
        }
    }

    public struct Sample: Sendable, Hashable {
        /// The sample name and its label set as written: `http_requests_total{route="/"}`.
        public var series: String
        public var value: Double

        public init(series: String, value: Double) {
            self.series = series
            self.value = value
        }
    }

    public struct Family: Sendable, Hashable {
        public var name: String
        public var help: String?
        public var type: FamilyType
        public var samples: [Sample]

        public init(name: String, help: String?, type: FamilyType, samples: [Sample]) {
            self.name = name
            self.help = help
            self.type = type
            self.samples = samples
        }
    }

    public private(set) var families: [Family] = []

    public init(families: [Family] = []) {
        self.families = families
    }

    /// Parses the text format. Lines it cannot read are skipped: a scrape should show what can
    /// be shown rather than fail on one odd line.
    public init(parsing text: String) {
        var index: [String: Int] = [:]
        func family(named name: String) -> Int {
            if let existing = index[name] { return existing }
            families.append(Family(name: name, help: nil, type: .untyped, samples: []))
            index[name] = families.count - 1
            return families.count - 1
        }
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("#") {
                let words = line.dropFirst().split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
                guard words.count >= 3 || (words.count == 2 && words[0] == "HELP") else { continue }
                let name = String(words[1])
                switch words[0] {
                case "HELP":
                    families[family(named: name)].help = words.count > 2 ? String(words[2]) : ""
                case "TYPE":
                    families[family(named: name)].type = FamilyType(rawValue: String(words[2])) ?? .untyped
                default:
                    continue
                }
                continue
            }
            guard let (series, sampleName, value) = Self.parseSample(line) else { continue }
            let owner = Self.familyName(of: sampleName, known: index)
            families[family(named: owner)].samples.append(Sample(series: series, value: value))
        }
    }

    /// The text format: each family's `# HELP`, `# TYPE` and samples.
    public func render() -> String {
        var text = ""
        for family in families where !family.samples.isEmpty {
            if let help = family.help { text += "# HELP \(family.name) \(help)\n" }
            text += "# TYPE \(family.name) \(family.type.rawValue)\n"
            for sample in family.samples {
                text += "\(sample.series) \(Self.format(sample.value))\n"
            }
        }
        return text
    }

    /// Adds `other`'s samples to this one's: equal series add up, new ones are appended.
    /// - Parameter cumulativeOnly: take only counters and histograms (a retired worker's share).
    public mutating func add(_ other: MetricsExposition, cumulativeOnly: Bool = false) {
        var familyIndex = Dictionary(uniqueKeysWithValues: families.enumerated().map { ($1.name, $0) })
        for family in other.families where !cumulativeOnly || family.type.isCumulative {
            let position: Int
            if let existing = familyIndex[family.name] {
                position = existing
                if families[position].help == nil { families[position].help = family.help }
                if families[position].type == .untyped { families[position].type = family.type }
            } else {
                families.append(Family(name: family.name, help: family.help, type: family.type, samples: []))
                position = families.count - 1
                familyIndex[family.name] = position
            }
            var sampleIndex = Dictionary(
                families[position].samples.enumerated().map { ($1.series, $0) }, uniquingKeysWith: { first, _ in first }
            )
            for sample in family.samples where !Self.isQuantile(sample, of: family) {
                if let existing = sampleIndex[sample.series] {
                    families[position].samples[existing].value += sample.value
                } else {
                    families[position].samples.append(sample)
                    sampleIndex[sample.series] = families[position].samples.count - 1
                }
            }
        }
    }

    /// A summary's quantile lines (`name{quantile="0.99"}`) cannot be added across workers.
    private static func isQuantile(_ sample: Sample, of family: Family) -> Bool {
        family.type == .summary && sample.series.hasPrefix(family.name)
            && (sample.series.count == family.name.count || sample.series.dropFirst(family.name.count).first == "{")
    }

    /// The family a sample belongs to: its own name, or its name without a histogram's or
    /// summary's `_bucket`/`_sum`/`_count` (or a counter's `_total`) when that family is known.
    private static func familyName(of sampleName: String, known: [String: Int]) -> String {
        if known[sampleName] != nil { return sampleName }
        for suffix in ["_bucket", "_sum", "_count", "_total", "_created"] where sampleName.hasSuffix(suffix) {
            let base = String(sampleName.dropLast(suffix.count))
            if known[base] != nil { return base }
        }
        return sampleName
    }

    /// `name{labels} value [timestamp]` → the series text, the sample name and the value.
    private static func parseSample(_ line: Substring) -> (String, String, Double)? {
        guard let nameEnd = line.firstIndex(where: { $0 == "{" || $0 == " " || $0 == "\t" }) else { return nil }
        let name = String(line[..<nameEnd])
        guard !name.isEmpty else { return nil }
        var seriesEnd = nameEnd
        if line[nameEnd] == "{" {
            var inQuotes = false
            var escaped = false
            var cursor = line.index(after: nameEnd)
            var closed = false
            while cursor < line.endIndex {
                let character = line[cursor]
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inQuotes.toggle()
                } else if character == "}" && !inQuotes {
                    closed = true
                    break
                }
                cursor = line.index(after: cursor)
            }
            guard closed else { return nil }
            seriesEnd = line.index(after: cursor)
        }
        let rest = line[seriesEnd...].split(separator: " ", omittingEmptySubsequences: true)
        guard let valueText = rest.first, let value = parseValue(valueText) else { return nil }
        return (String(line[..<seriesEnd]), name, value)
    }

    private static func parseValue(_ text: Substring) -> Double? {
        switch text {
        case "+Inf", "Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }

    /// Integers as integers (`42`, not `42.0`), the rest as Swift prints doubles.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
