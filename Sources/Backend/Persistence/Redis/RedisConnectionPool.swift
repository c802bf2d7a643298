import Logging
import NIOCore
import Synchronization

/// A few Redis connections, opened when first needed and replaced when broken.
///
/// Connections pipeline, so a request never waits for a free connection: it takes an idle one if
/// there is one, else opens another while the pool is below ``RedisConfiguration/poolSize``, else
/// shares the least busy. A connection found closed (Redis restarted, a timeout closed it) is
/// dropped and its slot reused. Opening a connection is not retried here: the caller's circuit
/// breaker decides when to try again.
///
/// Decisions are taken under a lock and the I/O (connect, close) happens after it is released.
public final class RedisConnectionPool: Sendable {
    public let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let state: Mutex<State>
    private let opened = Atomic<Int>(0)

    private enum Slot {
        /// Can transition to: `.connecting` (a request needs a connection).
        case empty
        /// Can transition to: `.connected` (it opened), `.empty` (it failed).
        case connecting(EventLoopFuture<RedisConnection>)
        /// Can transition to: `.empty` (found closed).
        case connected(RedisConnection)
    }

    private struct State {
        var slots: [Slot]
        var isShutdown = false
        /// Spreads requests over connections still opening when none is open yet.
        var nextWaiter = 0
    }

    /// What a request does once the lock is released.
    private enum LeaseAction {
        case use(RedisConnection)
        case wait(EventLoopFuture<RedisConnection>)
        case connect(slot: Int, promise: EventLoopPromise<RedisConnection>)
        case fail(RedisError)
    }

    /// - Parameters:
    ///   - configuration: the server, credentials, pool size and timeouts.
    ///   - eventLoopGroup: runs the connections (an `EventLoopGroup` the application owns).
    ///   - logger: for connection events.
    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger = Logger(label: "backend.redis")
    ) {
        precondition(configuration.poolSize >= 1, "a Redis pool needs at least one connection")
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.state = Mutex(State(slots: Array(repeating: .empty, count: configuration.poolSize)))
    }

    /// Connections opened since the pool was created (replacements included).
    public var connectionsOpened: Int { opened.load(ordering: .relaxed) }

    /// Connections currently open and usable.
    public var openConnections: Int {
        state.withLock { state in
            state.slots.reduce(0) { count, slot in
                if case .connected(let connection) = slot, connection.isActive { return count + 1 }
                return count
            }
        }
    }

    /// Sends one command on a pooled connection.
    /// - Returns: its reply.
    /// - Throws: ``RedisError`` when no connection can be had or the command fails.
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        try await connection().send(command)
    }

    /// Sends commands as one pipeline on one pooled connection.
    /// - Returns: one reply per command, in order.
    /// - Throws: as ``send(_:)``.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        try await connection().pipeline(commands)
    }

    /// A usable connection, shared with other requests (connections pipeline). Do not close it.
    /// - Throws: ``RedisError/poolShutdown(file:line:)`` after ``shutdown()``, or why no connection
    ///   could be opened.
    public func connection() async throws -> RedisConnection {
        var broken: [RedisConnection] = []
        let action = state.withLock { state in
            Self.lease(&state, broken: &broken, eventLoopGroup: eventLoopGroup)
        }
        for connection in broken {
            connection.channel.close(promise: nil)
        }

        switch action {
        case .use(let connection):
            return connection
        case .wait(let future):
            return try await future.get()
        case .fail(let error):
            throw error
        case .connect(let slot, let promise):
            return try await open(slot: slot, promise: promise)
        }
    }

    /// Connects slot `slot` (marked `.connecting` with `promise`'s future under the lock) and
    /// fulfils `promise` for the requests waiting on it.
    private func open(slot: Int, promise: EventLoopPromise<RedisConnection>) async throws -> RedisConnection {
        let connection: RedisConnection
        do {
            connection = try await RedisConnection.connect(
                to: configuration, on: promise.futureResult.eventLoop, logger: logger)
        } catch {
            state.withLock { state in
                if case .connecting = state.slots[slot] { state.slots[slot] = .empty }
            }
            promise.fail(error)
            throw error
        }
        opened.add(1, ordering: .relaxed)
        let keep = state.withLock { state -> Bool in
            guard !state.isShutdown else { return false }
            state.slots[slot] = .connected(connection)
            return true
        }
        guard keep else {
            await connection.close()
            promise.fail(RedisError.poolShutdown())
            throw RedisError.poolShutdown()
        }
        promise.succeed(connection)
        return connection
    }

    /// Chooses for one request, under the lock.
    private static func lease(
        _ state: inout State, broken: inout [RedisConnection], eventLoopGroup: any EventLoopGroup
    ) -> LeaseAction {
        guard !state.isShutdown else { return .fail(.poolShutdown()) }
        var best: RedisConnection?
        var emptySlot: Int?
        var opening: [EventLoopFuture<RedisConnection>] = []
        for index in state.slots.indices {
            switch state.slots[index] {
            case .connected(let connection) where !connection.isActive:
                broken.append(connection)
                state.slots[index] = .empty
                emptySlot = emptySlot ?? index
            case .connected(let connection):
                if best.map({ connection.inFlight < $0.inFlight }) ?? true { best = connection }
            case .empty:
                emptySlot = emptySlot ?? index
            case .connecting(let future):
                opening.append(future)
            }
        }
        if let best, best.inFlight == 0 || emptySlot == nil {
            return .use(best)
        }
        if let emptySlot {
            let promise = eventLoopGroup.next().makePromise(of: RedisConnection.self)
            state.slots[emptySlot] = .connecting(promise.futureResult)
            return .connect(slot: emptySlot, promise: promise)
        }
        // No open connection and every slot is still connecting.
        state.nextWaiter &+= 1
        return .wait(opening[state.nextWaiter % opening.count])
    }

    /// Opens the pool's connections before any request needs them, all at once, and waits until
    /// each has opened or failed, or `limit` has passed (the opening goes on in the background).
    ///
    /// A worker does this before it reports ready. Opened on first use instead, a new worker's
    /// first requests wait for the connect, and a recycled worker gets its first requests all at
    /// once (the edge moves the connections of the worker it replaces to it): in a process that
    /// never connected anywhere, that connect also sets NIO's client bootstrap up for the first
    /// time (the Swift runtime's type and conformance look-ups), on cores the other workers are
    /// busy on. Nothing fails here: a Redis that is down costs at most `limit`, and the requests
    /// then open connections (through the cache's breaker) as before.
    /// - Returns: how many connections are open.
    @discardableResult
    public func warmUp(within limit: Duration) async -> Int {
        // Whichever ends first, the connects or the limit, finishes the stream. Not a task group:
        // a group waits for all its children, and a connect does not stop when cancelled.
        let (done, finish) = AsyncStream<Never>.makeStream()
        // Every empty slot is marked connecting at once, so requests arriving meanwhile wait
        // for these connects instead of opening their own.
        let opening = state.withLock { state -> [(slot: Int, promise: EventLoopPromise<RedisConnection>)] in
            guard !state.isShutdown else { return [] }
            var opening: [(slot: Int, promise: EventLoopPromise<RedisConnection>)] = []
            for index in state.slots.indices {
                guard case .empty = state.slots[index] else { continue }
                let promise = eventLoopGroup.next().makePromise(of: RedisConnection.self)
                state.slots[index] = .connecting(promise.futureResult)
                opening.append((index, promise))
            }
            return opening
        }
        Task {
            await withTaskGroup(of: Void.self) { group in
                for (slot, promise) in opening {
                    group.addTask { _ = try? await self.open(slot: slot, promise: promise) }
                }
            }
            finish.finish()
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            finish.finish()
        }
        for await _ in done {}
        timer.cancel()
        return openConnections
    }

    /// Closes every connection; later requests fail with ``RedisError/poolShutdown(file:line:)``.
    public func shutdown() async {
        let connections = state.withLock { state -> [RedisConnection] in
            state.isShutdown = true
            var open: [RedisConnection] = []
            for index in state.slots.indices {
                if case .connected(let connection) = state.slots[index] { open.append(connection) }
                state.slots[index] = .empty
            }
            return open
        }
        for connection in connections {
            await connection.close()
        }
    }
}
