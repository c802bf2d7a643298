import Edge
import Foundation

// Signals first: a SIGHUP that arrives while the edge starts must not kill it.
EdgeCommand.ignoreSignalsUntilReady()
let status = await EdgeCommand.run(arguments: CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
exit(status)
