import RackPlanning

/// Every connection's ``CableCheck`` with a summary: the response of
/// `POST /api/connections/validate-bulk`.
public struct BulkCableValidation: Codable, Sendable, Hashable {
    /// Counts over all the checks.
    public struct Summary: Codable, Sendable, Hashable {
        public var totalConnections: Int
        /// Connections without an error (they may carry warnings).
        public var valid: Int
        /// Connections with at least one error.
        public var invalid: Int
        /// Connections with any issue at all.
        public var withIssues: Int
        /// Issues by severity, every severity listed (0 when none).
        public var issuesBySeverity: [String: Int]

        enum CodingKeys: String, CodingKey {
            case totalConnections = "total_connections"
            case valid, invalid
            case withIssues = "with_issues"
            case issuesBySeverity = "issues_by_severity"
        }
    }

    /// The rack the connections were chosen by (either end placed there); `nil` for all.
    public var rackID: Int?
    /// In connection-id order.
    public var results: [CableCheck]
    public var summary: Summary

    /// Summarises `results`.
    public init(rackID: Int?, results: [CableCheck]) {
        self.rackID = rackID
        self.results = results
        var bySeverity: [String: Int] = [:]
        for severity in Self.severities { bySeverity[severity.rawValue] = 0 }
        for issue in results.flatMap(\.issues) { bySeverity[issue.severity.rawValue, default: 0] += 1 }
        let valid = results.filter(\.valid).count
        summary = Summary(
            totalConnections: results.count, valid: valid, invalid: results.count - valid,
            withIssues: results.filter { !$0.issues.isEmpty }.count, issuesBySeverity: bySeverity)
    }

    /// The severities the summary always lists, as 0 when none occur (a severity the domain
    /// adds later is still counted when it occurs).
    private static let severities: [CableCheck.Issue.Severity] = [.warning, .error]

    /// Writes `"rack_id": null` for a check of every connection rather than leaving it out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rackID, forKey: .rackID)
        try container.encode(results, forKey: .results)
        try container.encode(summary, forKey: .summary)
    }

    enum CodingKeys: String, CodingKey {
        case rackID = "rack_id"
        case results, summary
    }
}
