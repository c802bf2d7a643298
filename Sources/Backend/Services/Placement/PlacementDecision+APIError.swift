import RackPlanning

extension PlacementDecision {
    /// The Us an accepted placement will occupy, or the refusal as the API's error.
    ///
    /// The statuses are the decision's own (``PlacementDecision/status``); the envelope's code
    /// follows from them, and the message is ``PlacementDecision/detail`` (an overlap's lists the
    /// clashing Us).
    /// - Returns: the Us the device will block (empty for zero-U and sub-U kit).
    /// - Throws: ``APIError`` 404, 400 or 409 when the rules refuse the placement.
    func accepted() throws(APIError) -> Range<Int> {
        switch self {
        case .accepted(let units): return units
        case .rackNotFound, .deviceNotFound: throw .notFound(detail)
        case .missingPhysicalData, .outOfBounds, .widthIncompatible: throw .badRequest(detail)
        case .alreadyPlaced, .overlap: throw .conflict(detail)
        }
    }
}
