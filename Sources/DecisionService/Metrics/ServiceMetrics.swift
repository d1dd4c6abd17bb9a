import CoreMetrics
import DecisionCore
import DecisionEngine
import Prometheus
import Synchronization

/// The service's metrics: swift-metrics handles, created once, over a swift-prometheus registry that
/// renders `/metrics`. Label values come from fixed vocabularies (outcomes, strategies, reasons, codes,
/// verdicts, partition numbers), never from message content.
public final class ServiceMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let factory: DocumentedPrometheusFactory

    /// Upper bounds of the latency histograms.
    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10),
        .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10),
    ]

    /// Every metric the service exports, with its HELP text. Names, labels and types are a public
    /// interface (dashboards, alerts): change them only with docs/operations.md and `deploy/`.
    static let catalog: [String: String] = [
        "optimizer_decider_messages_consumed_total": "Input messages consumed, by input partition.",
        "optimizer_decider_decisions_total":
            "Decisions made, by outcome and strategy (published without waiting; an input offset moves only once they are delivered).",
        "optimizer_decider_duplicates_total": "Runs already decided under the same rules: nothing published.",
        "optimizer_decider_dead_letters_total": "Messages copied to the dead-letter topic, by reason.",
        "optimizer_decider_regressions_total": "Regressions listed in decisions, by code.",
        "optimizer_decider_variant_verdicts_total": "Variant comparisons in decisions, by verdict.",
        "optimizer_decider_processing_seconds":
            "Time from a message's arrival to the confirmed delivery of everything it produced.",
        "optimizer_decider_consumer_lag": "Messages behind the high watermark, by input partition.",
        "optimizer_decider_state_entries": "Decision ids held for deduplication.",
        "optimizer_decider_state_workflows": "Workflows with history held.",
        "optimizer_decider_restore_seconds": "Time to rebuild a partition assignment's state from the decisions topic.",
        "optimizer_decider_restored_decisions_total":
            "Records read back while restoring state, over every partition (decisions of any rules, dead letters, foreign records).",
        "optimizer_decider_restore_records_total":
            "Records of the decisions topic read back while restoring state, by input partition.",
        "optimizer_decider_restore_remaining_records":
            "Records of the decisions topic still to read before a partition's state is restored (0 once it is), by input partition.",
        "optimizer_decider_assigned_partitions": "Input partitions assigned to this instance.",
        "optimizer_decider_ready": "1 when partitions are assigned and their state is restored.",
        "optimizer_decider_in_flight_messages": "Outputs produced and not yet confirmed delivered.",
    ]

    struct DecisionKind: Hashable {
        var shouldOptimize: Bool
        var strategy: Strategy?
    }

    let decisions: [DecisionKind: CoreMetrics.Counter]
    let duplicates: CoreMetrics.Counter
    let deadLetters: [RejectionReason: CoreMetrics.Counter]
    let regressions: [RegressionCode: CoreMetrics.Counter]
    let variantVerdicts: [VariantVerdict: CoreMetrics.Counter]
    let processing: CoreMetrics.Timer
    let restoreTime: CoreMetrics.Timer
    let restoredDecisions: CoreMetrics.Counter
    let stateEntries: CoreMetrics.Gauge
    let stateWorkflows: CoreMetrics.Gauge
    let assignedPartitions: CoreMetrics.Gauge
    let ready: CoreMetrics.Gauge
    let inFlight: CoreMetrics.Gauge
    private let partitions = Mutex<[Int32: PartitionHandles]>([:])

    /// The handles labelled by input partition, created on its first assignment.
    struct PartitionHandles: Sendable {
        var consumed: CoreMetrics.Counter
        var lag: CoreMetrics.Gauge?
        var restoreRecords: CoreMetrics.Counter?
        var restoreRemaining: CoreMetrics.Gauge?
    }

    public init() {
        let factory = DocumentedPrometheusFactory(
            registry: registry, help: Self.catalog, durationBuckets: Self.latencyBuckets)
        self.factory = factory
        func counter(_ name: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Counter {
            CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory)
        }
        func gauge(_ name: String) -> CoreMetrics.Gauge { CoreMetrics.Gauge(label: name, factory: factory) }
        var decisions: [DecisionKind: CoreMetrics.Counter] = [:]
        for shouldOptimize in [false, true] {
            for strategy in [nil] + Strategy.allCases.map(Optional.some) {
                decisions[DecisionKind(shouldOptimize: shouldOptimize, strategy: strategy)] = counter(
                    "optimizer_decider_decisions_total",
                    [("should_optimize", String(shouldOptimize)), ("strategy", strategy?.rawValue ?? "none")])
            }
        }
        self.decisions = decisions
        duplicates = counter("optimizer_decider_duplicates_total")
        deadLetters = Dictionary(
            uniqueKeysWithValues: RejectionReason.allCases.map {
                ($0, counter("optimizer_decider_dead_letters_total", [("reason", $0.rawValue)]))
            })
        regressions = Dictionary(
            uniqueKeysWithValues: RegressionCode.allCases.map {
                ($0, counter("optimizer_decider_regressions_total", [("code", $0.rawValue)]))
            })
        variantVerdicts = Dictionary(
            uniqueKeysWithValues: VariantVerdict.allCases.map {
                ($0, counter("optimizer_decider_variant_verdicts_total", [("verdict", $0.rawValue)]))
            })
        processing = CoreMetrics.Timer(label: "optimizer_decider_processing_seconds", factory: factory)
        restoreTime = CoreMetrics.Timer(label: "optimizer_decider_restore_seconds", factory: factory)
        restoredDecisions = counter("optimizer_decider_restored_decisions_total")
        stateEntries = gauge("optimizer_decider_state_entries")
        stateWorkflows = gauge("optimizer_decider_state_workflows")
        assignedPartitions = gauge("optimizer_decider_assigned_partitions")
        ready = gauge("optimizer_decider_ready")
        inFlight = gauge("optimizer_decider_in_flight_messages")
        assignedPartitions.record(0)
        ready.record(0)
    }

    /// The Prometheus text exposition of every metric.
    public func render() -> [UInt8] { registry.emitToBuffer() }

    // MARK: Recording

    func recordDecision(_ decision: DecisionSummary) {
        decisions[DecisionKind(shouldOptimize: decision.shouldOptimize, strategy: decision.strategy)]!.increment()
        for code in decision.regressions { regressions[code]!.increment() }
        if let verdict = decision.variantVerdict { variantVerdicts[verdict]!.increment() }
    }

    func recordConsumed(partition: Int32, count: Int) {
        handles(for: partition).consumed.increment(by: count)
    }

    func recordLag(partition: Int32, messages: Int64) {
        let factory = factory
        let gauge = partitions.withLock { partitions -> CoreMetrics.Gauge in
            if let lag = partitions[partition]?.lag { return lag }
            let lag = CoreMetrics.Gauge(
                label: "optimizer_decider_consumer_lag", dimensions: [("partition", String(partition))],
                factory: factory)
            partitions[partition, default: PartitionHandles(consumed: Self.consumedCounter(partition, factory))].lag =
                lag
            return lag
        }
        gauge.record(messages)
    }

    /// A restore's progress on one partition: `read` more records read back, `remaining` still to read.
    func recordRestore(partition: Int32, read: Int, remaining: Int64) {
        let factory = factory
        let (counter, gauge) = partitions.withLock { partitions -> (CoreMetrics.Counter, CoreMetrics.Gauge) in
            var handles = partitions[partition] ?? PartitionHandles(consumed: Self.consumedCounter(partition, factory))
            let dimensions = [("partition", String(partition))]
            let counter =
                handles.restoreRecords
                ?? CoreMetrics.Counter(
                    label: "optimizer_decider_restore_records_total", dimensions: dimensions, factory: factory)
            let gauge =
                handles.restoreRemaining
                ?? CoreMetrics.Gauge(
                    label: "optimizer_decider_restore_remaining_records", dimensions: dimensions, factory: factory)
            (handles.restoreRecords, handles.restoreRemaining) = (counter, gauge)
            partitions[partition] = handles
            return (counter, gauge)
        }
        if read > 0 { counter.increment(by: read) }
        gauge.record(remaining)
    }

    /// A revoked partition's lag and restore progress are no longer this instance's to report (its
    /// restored-records total stays: a counter only grows).
    func forgetLag(partitions revoked: [Int32]) {
        let gauges = partitions.withLock { partitions in
            revoked.flatMap { partition -> [CoreMetrics.Gauge] in
                defer {
                    partitions[partition]?.lag = nil
                    partitions[partition]?.restoreRemaining = nil
                }
                return [partitions[partition]?.lag, partitions[partition]?.restoreRemaining].compactMap { $0 }
            }
        }
        for gauge in gauges { gauge.destroy() }
    }

    private func handles(for partition: Int32) -> PartitionHandles {
        let factory = factory
        return partitions.withLock { partitions in
            if let existing = partitions[partition] { return existing }
            let created = PartitionHandles(consumed: Self.consumedCounter(partition, factory))
            partitions[partition] = created
            return created
        }
    }

    private static func consumedCounter(_ partition: Int32, _ factory: DocumentedPrometheusFactory)
        -> CoreMetrics.Counter
    {
        CoreMetrics.Counter(
            label: "optimizer_decider_messages_consumed_total", dimensions: [("partition", String(partition))],
            factory: factory)
    }
}
