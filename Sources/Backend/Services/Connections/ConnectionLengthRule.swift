import RackPlanning

/// Which `cable_length_m` a connection is saved with (`rack-api.md` §7), on top of
/// ``CableLength``.
///
/// On create, a given length is kept; without one, the length is estimated when both ends are
/// placed in one rack, else left unknown. On a partial update:
/// - a length in the body wins;
/// - an explicit `"cable_length_m": null` drops the recorded length and estimates afresh (as a
///   create without a length would), so a client can return a cable to the estimate;
/// - a change of routing re-estimates (``CableLength/afterUpdate(_:newLengthM:newRouting:from:to:)``),
///   and so does a change of either end, since the stored figure was for the old route or the
///   old devices; when no estimate is possible the stored length stands;
/// - otherwise the stored length stands.
enum ConnectionLengthRule {
    /// What a request body says about `cable_length_m`.
    enum Input: Equatable {
        case absent
        /// `"cable_length_m": null`.
        case cleared
        case given(Double)

        /// Reads `cable_length_m` from a body already decoded into `decodedLengthM`.
        init(body: JSONObject, decodedLengthM: Double?) {
            if !body.contains("cable_length_m") {
                self = .absent
            } else if let decodedLengthM {
                self = .given(decodedLengthM)
            } else {
                self = .cleared
            }
        }
    }

    /// The length a new connection is saved with.
    /// - Parameters:
    ///   - connection: the connection to create (its `cable_length_m` as given, if at all).
    ///   - from: the position of its `from` device, if placed.
    ///   - to: the position of its `to` device, if placed.
    static func forCreate(_ connection: Connection, from: RackPosition?, to: RackPosition?) -> Double? {
        CableLength.resolve(connection, from: from, to: to)
    }

    /// The length an updated connection is saved with.
    /// - Parameters:
    ///   - stored: the connection before the update.
    ///   - updated: the stored connection with the body merged over it.
    ///   - input: what the body said about the length.
    ///   - from: the position of the updated `from` device, if placed.
    ///   - to: the position of the updated `to` device, if placed.
    static func forUpdate(
        stored: Connection, updated: Connection, input: Input, from: RackPosition?, to: RackPosition?
    ) -> Double? {
        var unmeasured = updated
        unmeasured.cableLengthM = nil
        switch input {
        case .given(let length):
            return length
        case .cleared:
            return CableLength.resolve(unmeasured, from: from, to: to)
        case .absent:
            let endsChanged =
                stored.fromDeviceID != updated.fromDeviceID || stored.toDeviceID != updated.toDeviceID
            if endsChanged {
                return CableLength.resolve(unmeasured, from: from, to: to) ?? stored.cableLengthM
            }
            return CableLength.afterUpdate(
                stored, newLengthM: nil, newRouting: updated.routingPath, from: from, to: to)
        }
    }
}
