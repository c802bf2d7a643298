/// The one JSON error body of HomeRack: the API's envelope, which the edge's own answers (404,
/// 413, 429, 502, …) use too, so that a client parsing `error` always finds an object:
///
/// ```json
/// {"detail":"no route for this path","error":{"code":"RESOURCE_NOT_FOUND","message":"no route for this path","request_id":"…"}}
/// ```
///
/// `detail` keeps the original API's `{"detail": …}` readable by old clients. The backend adds
/// `error.details` for validation errors (its `APIError`); the edge never has any.
/// - Parameters:
///   - code: a stable machine-readable code (`RESOURCE_NOT_FOUND`, `RATE_LIMITED`, …).
///   - message: for people; also the `detail`.
///   - requestID: the request's ID, as in its `X-Request-ID` header.
/// - Returns: the body, ending in a newline.
public func errorEnvelopeJSON(code: String, message: String, requestID: String) -> String {
    var text = "{\"detail\":"
    appendJSONString(message, to: &text)
    text += ",\"error\":{\"code\":"
    appendJSONString(code, to: &text)
    text += ",\"message\":"
    appendJSONString(message, to: &text)
    text += ",\"request_id\":"
    appendJSONString(requestID, to: &text)
    text += "}}\n"
    return text
}
