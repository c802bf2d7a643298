import NIOCore
import NIOHTTP1
import NIOPosix

/// Static files, as the old front's `root`/`try_files`: GET and HEAD (the filter chain refused
/// the rest and any escaping path), conditional requests, single byte ranges, `sendfile` on
/// plain HTTP/1.1 and chunks read off the event loop on TLS and HTTP/2. The lookup runs on the
/// file I/O pool; the answer goes out as any local answer, so the connection's machine moves on
/// the same way.
extension ClientHandler {
    func serveStatic(
        _ head: HTTPRequestHead, config: StaticConfig, relative: String, record: AccessRecord, runtime: EdgeRuntime,
        route: CompiledRoute, hasBody: Bool
    ) {
        let keepAlive = machine.beginLocal(mustClose: false, hasBody: hasBody)
        let readBody = head.method == .GET
        let eventLoop = context.eventLoop
        state.fileIO.runIfActive(eventLoop: eventLoop) {
            StaticFiles.lookup(relative: relative, config: config, readBody: readBody)
        }.assumeIsolated().whenComplete { [weak self] result in
            guard let self, case .local = self.machine.phase else {
                if case .success(.file(_, _, _, .handle(let handle))) = result { try? handle.close() }
                var gone = record
                gone.status = 499  // the client went away before the answer started
                self?.finishRecord(gone, runtime: runtime)
                return
            }
            let lookup = (try? result.get()) ?? .notFound
            self.writeStatic(lookup, head: head, record: record, runtime: runtime, route: route, keepAlive: keepAlive)
        }
    }

    private func writeStatic(
        _ lookup: StaticFiles.Lookup, head request: HTTPRequestHead, record: AccessRecord, runtime: EdgeRuntime,
        route: CompiledRoute, keepAlive: Bool
    ) {
        let allocator = context.channel.allocator
        switch lookup {
        case .notFound, .forbidden:
            let response: LocalResponse = if case .forbidden = lookup { .forbidden } else { .error(.notFound, "file not found") }
            let (head, body) = response.parts(
                decorations: decorations(for: nil, runtime), requestID: record.requestID, keepAlive: keepAlive, allocator: allocator)
            writeLocal(head: head, body: .buffer(body), record: record, runtime: runtime)
        case .file(let path, let size, let modified, let content):
            let answer = StaticAnswer(
                path: path, size: size, modified: modified, isGET: request.method == .GET,
                field: { request.headers.first(name: $0) })
            var headers = HTTPHeaders()
            if answer.kind == .unsatisfiable {
                if case .handle(let handle) = content { try? handle.close() }
                var response = LocalResponse.error(.rangeNotSatisfiable, StaticAnswer.unsatisfiableMessage)
                for field in answer.rangeFields { response.headers.add(name: field.name, value: field.value) }
                let (head, body) = response.parts(
                    decorations: decorations(for: route, runtime), requestID: record.requestID, keepAlive: keepAlive, allocator: allocator)
                writeLocal(head: head, body: .buffer(body), record: record, runtime: runtime)
                return
            }
            for field in answer.fields { headers.add(name: field.name, value: field.value) }
            decorations(for: route, runtime).apply(to: &headers, requestID: record.requestID)
            headers.setKeepAlive(keepAlive)
            if answer.kind == .notModified {
                if case .handle(let handle) = content { try? handle.close() }
                writeLocal(head: HTTPResponseHead(version: .http1_1, status: .notModified, headers: headers), body: .none, record: record, runtime: runtime)
                return
            }
            for field in answer.rangeFields { headers.add(name: field.name, value: field.value) }
            let compressible = route.config.compress && MediaTypes.isCompressible(MediaTypes.type(of: path)) && request.method == .GET
            let range = answer.range
            let status = HTTPResponseStatus(statusCode: answer.status)
            headers.add(name: "Content-Length", value: String(range.count))
            let responseHead = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
            switch content {
            case .bytes(let bytes):
                let body: LocalBody = request.method == .HEAD ? .none : .buffer(allocator.buffer(bytes: bytes[range]))
                writeLocal(head: responseHead, body: body, record: record, runtime: runtime, compressible: compressible && answer.kind == .whole)
            case .handle(let handle):
                if request.method == .HEAD {
                    try? handle.close()
                    writeLocal(head: responseHead, body: .none, record: record, runtime: runtime)
                } else if mode == .http1 && !secure {
                    let region = FileRegion(fileHandle: handle, readerIndex: range.lowerBound, endIndex: range.upperBound)
                    writeLocal(head: responseHead, body: .file(region, handle), record: record, runtime: runtime)
                } else {
                    writeLocal(head: responseHead, body: .fileChunks(handle, range: range), record: record, runtime: runtime)
                }
            }
        }
    }
}
