import Testing

@testable import EdgeIO

/// The wheel against a plain list of deadlines, driven the way a loop drives it: arm at
/// now + a timeout (milliseconds to a minute), cancel some, advance the clock by small and
/// large steps, and at every step every timer due must fire and none early.
struct TimingWheelModelTests {
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func matchesAListOfDeadlinesUnderLoopLikeUse(seed: UInt64) {
        var random = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next(_ bound: UInt64) -> UInt64 {
            random ^= random >> 12
            random ^= random << 25
            random ^= random >> 27
            return (random &* 0x2545_F491_4F6C_DD1D) % bound
        }
        var wheel = TimingWheel(now: 0)
        var model: [TimerID: UInt64] = [:]
        var now: UInt64 = 0
        let timeouts: [UInt64] = [0, 1, 20, 63, 64, 200, 300, 2_000, 4_096, 60_000, 65_000]
        for _ in 0..<20_000 {
            switch next(10) {
            case 0..<4:
                let deadline = now + timeouts[Int(next(UInt64(timeouts.count)))]
                let id = wheel.arm(at: deadline, payload: deadline)
                model[id] = deadline
            case 4..<6:
                if let id = model.keys.first(where: { _ in next(3) == 0 }) {
                    let cancelled = wheel.cancel(id)
                    #expect(cancelled)
                    model[id] = nil
                }
            default:
                now += [0, 1, 3, 17, 64, 150, 1_000, 5_000][Int(next(8))]
                if let earliest = model.values.min() {
                    let announced = wheel.nextDeadline ?? .max
                    #expect(announced <= earliest, "nextDeadline \(announced) after the earliest \(earliest) at \(now)")
                }
                let fired = wheel.advance(to: now)
                for timer in fired {
                    #expect(timer.deadline <= now, "fired early")
                    let known = model.removeValue(forKey: timer.id) != nil
                    #expect(known, "fired twice or after cancel")
                }
                let overdue = model.values.filter { $0 <= now }
                #expect(overdue.isEmpty, "due at \(now) and not fired: \(overdue.sorted().prefix(5))")
                if !overdue.isEmpty { return }
            }
            #expect(wheel.count == model.count)
        }
    }
}
