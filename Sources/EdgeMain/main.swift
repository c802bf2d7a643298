import Edge
import Foundation

// Signals first: a SIGHUP that arrives while the edge starts must not kill it.
EdgeCommand.ignoreSignalsUntilReady()
// Freed memory goes back to the system (glibc keeps it otherwise; see MemoryTrimmer).
MemoryTrimmer.start()
let status = await EdgeCommand.run(arguments: CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
exit(status)
