import Dispatch
import Foundation
import Logging
import Synchronization

/// SIGTERM and SIGINT as people expect them, beside swift-service-lifecycle's graceful shutdown (which
/// the `ServiceGroup` starts on the first of them): the first signal also starts the ``StopBudget``; a
/// second one during the stop ends the process at once with 128 + the signal number, as a second
/// Ctrl-C does.
public final class TerminationSignals: Sendable {
    private let sources: [SignalSource]

    private final class Count: Sendable {
        let value = Atomic<Int>(0)
    }

    public init(budget: StopBudget, logger: Logger, exit: @escaping @Sendable (Int32) -> Void = { Foundation.exit($0) })
    {
        var sources: [SignalSource] = []
        let received = Count()
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if received.value.add(1, ordering: .relaxed).newValue == 1 {
                    logger.info("received \(name): stopping within \(budget.budget)")
                    budget.begin()
                } else {
                    logger.warning("received \(name) again while stopping: exiting now")
                    exit(128 + number)
                }
            }
            source.resume()
            sources.append(.init(source))
        }
        self.sources = sources
    }

    deinit { sources.forEach { $0.source.cancel() } }
}

/// A signal source kept alive by its owner.
///
/// `@unchecked Sendable`: Dispatch sources are thread-safe objects; this wrapper only stores one, to
/// cancel it once.
struct SignalSource: @unchecked Sendable {
    let source: DispatchSourceSignal
    init(_ source: DispatchSourceSignal) { self.source = source }
}
