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
            let entityTag = StaticPath.entityTag(size: size, modifiedSeconds: modified)
            let lastModified = HTTPDate.format(epochSeconds: modified)
            var headers = HTTPHeaders()
            let contentType = MediaTypes.type(of: path)
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "ETag", value: entityTag)
            headers.add(name: "Last-Modified", value: lastModified)
            decorations(for: route, runtime).apply(to: &headers, requestID: record.requestID)
            headers.setKeepAlive(keepAlive)
            let compressible = route.config.compress && MediaTypes.isCompressible(contentType) && request.method == .GET
            if StaticPath.isNotModified(
                ifNoneMatch: request.headers.first(name: "if-none-match"),
                ifModifiedSince: request.headers.first(name: "if-modified-since"), entityTag: entityTag,
                lastModified: lastModified)
            {
                if case .handle(let handle) = content { try? handle.close() }
                writeLocal(head: HTTPResponseHead(version: .http1_1, status: .notModified, headers: headers), body: .none, record: record, runtime: runtime)
                return
            }
            headers.add(name: "Accept-Ranges", value: "bytes")
            var range = 0..<size
            var status = HTTPResponseStatus.ok
            if request.method == .GET, let rangeHeader = request.headers.first(name: "range"),
                StaticPath.ifRangeHolds(request.headers.first(name: "if-range"), entityTag: entityTag, lastModified: lastModified)
            {
                switch ByteRange.parse(rangeHeader, size: size) {
                case .satisfiable(let bytes):
                    range = bytes
                    status = .partialContent
                    headers.add(name: "Content-Range", value: "bytes \(bytes.lowerBound)-\(bytes.upperBound - 1)/\(size)")
                case .unsatisfiable:
                    if case .handle(let handle) = content { try? handle.close() }
                    var response = LocalResponse.error(.rangeNotSatisfiable, "the requested range is outside the file")
                    response.headers.add(name: "Content-Range", value: "bytes */\(size)")
                    let (head, body) = response.parts(
                        decorations: decorations(for: route, runtime), requestID: record.requestID, keepAlive: keepAlive, allocator: allocator)
                    writeLocal(head: head, body: .buffer(body), record: record, runtime: runtime)
                    return
                case .ignored:
                    break
                }
            }
            headers.add(name: "Content-Length", value: String(range.count))
            let responseHead = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
            switch content {
            case .bytes(let bytes):
                let body: LocalBody = request.method == .HEAD ? .none : .buffer(allocator.buffer(bytes: bytes[range]))
                writeLocal(head: responseHead, body: body, record: record, runtime: runtime, compressible: compressible && status == .ok)
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
