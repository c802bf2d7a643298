import Hummingbird
import RackPlanning

extension OptimizationRequest {
    /// The body of `POST /racks/{id}/optimize`, where a missing or blank body asks for the
    /// defaults (no locked devices, the standard weights), as does `{}`.
    ///
    /// The range and sum checks are left to ``FieldValidatable/validate()``, so the 422 lists
    /// every weight at fault.
    /// - Throws: 422 when the body is not a JSON object or a field has the wrong type; 413 past
    ///   the context's size limit.
    static func read(from request: Request, context: BackendRequestContext) async throws -> OptimizationRequest {
        let buffer = try await RecordInput.collect(request, context: context)
        let isBlank = buffer.readableBytesView.allSatisfy { [0x20, 0x09, 0x0A, 0x0D].contains($0) }
        guard !isBlank else { return OptimizationRequest() }
        // The stream is consumed; hand the decoder the bytes already read.
        var request = request
        request.body = RequestBody(buffer: buffer)
        return try await RecordInput.decode(OptimizationRequest.self, from: request, context: context)
    }
}
