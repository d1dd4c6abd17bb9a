import Foundation
import Kafka
import Logging
import Testing

@testable import DecisionService

/// One stopping state: a stop begun anywhere (here the way the SIGTERM handler begins it, before
/// swift-service-lifecycle's graceful shutdown reaches `requestStop()`) is seen by every part at once.
@Suite("One stopping state", .serialized, .timeLimit(.minutes(1)))
struct StopStateTests {
    @Test func aStopBegunByTheSignalAloneStopsTheServiceCleanly() async throws {
        var logger = Logger(label: "stop-state")
        logger.logLevel = .critical
        let (cluster, settings) = try faultCluster(group: "stop-state", logger: logger)
        let pipeline = DecisionPipeline(settings: settings, logger: logger)
        let service = Task { try await pipeline.run() }
        let stream = try ExecutorStream(cluster, logger: logger)
        try await streamUntilWorking(pipeline, stream)
        // What `TerminationSignals` does on SIGTERM; `requestStop()` is never called.
        let begun = ContinuousClock.now
        pipeline.budget.begin()
        #expect(pipeline.readiness.snapshot.stopping, "readiness reads the same state")
        for _ in 0..<20 { try await stream.sendNext() }
        await stream.close()
        try await service.value
        let took = begun.duration(to: .now)
        #expect(took < settings.stopTimeout, "the stop took \(took)")
    }
}
