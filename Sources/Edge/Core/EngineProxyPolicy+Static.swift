import EdgeIOProxy

#if canImport(Glibc)
import Glibc
#endif

/// Static files (``StaticFiles``, ``StaticAnswer``): the file is found and opened on the loop's thread (a `stat` and an `open` of
/// a local file, as nginx does on its event loops), the head is written here, and the core sends
/// the body from the open descriptor (``ProxyDecision/file(descriptor:offset:count:close:)``):
/// `sendfile` on plain HTTP, reads into its buffer over TLS, appended to the stream over HTTP/2.
/// Files are sent as they are: `compress` on a static route does nothing (docs/CONFIG.md).
extension EngineProxyPolicy {
    mutating func serveStatic(
        config: StaticConfig, relative: String, route: CompiledRoute, request: EdgeIOProxy.HTTPRequestHead,
        head: CoreRequestHead, input: UnsafeRawBufferPointer, requestID: RequestID, runtime: EdgeRuntime,
        record: inout AccessRecord, answer: inout HeadWriter
    ) -> ProxyDecision {
        let closes = request.answerCloses(received: input.count)
        let http10 = request.minorVersion == 0
        /// An answer with a small body of its own (404, 403, 416, 304).
        func local(_ content: AnswerContent, decorations: ResponseDecorations) -> ProxyDecision {
            record.status = content.status
            record.bytesOut = Self.write(
                content, requestID: requestID, decorations: decorations, isHEAD: request.isHEAD, closes: closes,
                http10: http10, into: &answer)
            return .answered(close: closes)
        }
        let base = Self.decorations(route: nil, runtime: runtime, secure: secure)
        let decorations = Self.decorations(route: route, runtime: runtime, secure: secure)
        let location = StaticFiles.locate(relative: relative, config: config)
        guard case .file(let path, let size, let modified) = location else {
            return local(location == .forbidden ? AnswerContent(.forbidden) : .error(404, "file not found"), decorations: base)
        }
        let file = StaticAnswer(path: path, size: size, modified: modified, isGET: !request.isHEAD, field: { head.first($0) })
        switch file.kind {
        case .unsatisfiable:
            var content = AnswerContent.error(416, StaticAnswer.unsatisfiableMessage)
            content.fields += file.rangeFields
            return local(content, decorations: decorations)
        case .notModified:
            record.status = 304
            Self.writeHead(
                status: 304, fields: file.fields, requestID: requestID, decorations: decorations, contentLength: nil,
                closes: closes, http10: http10, into: &answer)
            return .answered(close: closes)
        case .whole, .partial:
            var descriptor: Int32 = -1
            if !request.isHEAD && !file.range.isEmpty {
                let (opened, failure) = StaticFiles.open(path)
                guard let opened else {
                    return local(
                        failure == .forbidden ? AnswerContent(.forbidden) : .error(404, "file not found"), decorations: base)
                }
                descriptor = opened
            }
            record.status = file.status
            record.bytesOut = request.isHEAD ? 0 : file.range.count
            Self.writeHead(
                status: file.status, fields: file.fields + file.rangeFields, requestID: requestID, decorations: decorations,
                contentLength: file.range.count, closes: closes, http10: http10, into: &answer)
            guard descriptor >= 0 else { return .answered(close: closes) }
            return .file(descriptor: descriptor, offset: file.range.lowerBound, count: file.range.count, close: closes)
        }
    }
}
