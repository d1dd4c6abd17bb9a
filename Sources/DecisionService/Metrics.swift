import Foundation

/// The service's Prometheus metrics, rendered in the text exposition format. Label values come from
/// fixed vocabularies (reason codes, strategies, partition numbers), never from message content.
///
/// `@unchecked Sendable`: every mutable field is accessed under `lock`.
public final class ServiceMetrics: @unchecked Sendable {
    private let lock = NSLock()
    private var counters: [String: [String: Double]] = [:]
    private var gauges: [String: [String: Double]] = [:]
    private var histograms: [String: Histogram] = [:]
    private let help: [String: (type: String, text: String)] = ServiceMetrics.catalog

    /// Upper bounds, in seconds, of the latency histograms.
    static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    static let catalog: [String: (type: String, text: String)] = [
        "optimizer_decider_messages_consumed_total": ("counter", "Input messages consumed, by input partition."),
        "optimizer_decider_decisions_total": ("counter", "Decisions published, by outcome and strategy."),
        "optimizer_decider_duplicates_total": ("counter", "Runs already decided under the same rules: nothing published."),
        "optimizer_decider_dead_letters_total": ("counter", "Messages copied to the dead-letter topic, by reason."),
        "optimizer_decider_regressions_total": ("counter", "Regressions listed in decisions, by code."),
        "optimizer_decider_processing_seconds": ("histogram", "Time from a batch's arrival to its decisions' confirmed delivery, per message."),
        "optimizer_decider_consumer_lag": ("gauge", "Messages behind the high watermark, by input partition."),
        "optimizer_decider_state_entries": ("gauge", "Decision ids held for deduplication."),
        "optimizer_decider_state_workflows": ("gauge", "Workflows with history held."),
        "optimizer_decider_restore_seconds": ("histogram", "Time to rebuild a partition assignment's state from the decisions topic."),
        "optimizer_decider_restored_decisions_total": ("counter", "Decisions read back while restoring state."),
        "optimizer_decider_assigned_partitions": ("gauge", "Input partitions assigned to this instance."),
        "optimizer_decider_ready": ("gauge", "1 when partitions are assigned and their state is restored."),
    ]

    public init() {}

    public func increment(_ name: String, _ labels: [(String, String)] = [], by amount: Double = 1) {
        let key = Self.labelText(labels)
        lock.lock()
        counters[name, default: [:]][key, default: 0] += amount
        lock.unlock()
    }

    public func set(_ name: String, _ labels: [(String, String)] = [], to value: Double) {
        let key = Self.labelText(labels)
        lock.lock()
        gauges[name, default: [:]][key] = value
        lock.unlock()
    }

    public func removeGauge(_ name: String, _ labels: [(String, String)]) {
        let key = Self.labelText(labels)
        lock.lock()
        gauges[name]?[key] = nil
        lock.unlock()
    }

    public func observe(_ name: String, seconds: Double, count: Int = 1) {
        lock.lock()
        histograms[name, default: Histogram(bounds: Self.latencyBuckets)].observe(seconds, count: count)
        lock.unlock()
    }

    public func counter(_ name: String, _ labels: [(String, String)] = []) -> Double {
        lock.lock()
        defer { lock.unlock() }
        return counters[name]?[Self.labelText(labels)] ?? 0
    }

    public func gauge(_ name: String, _ labels: [(String, String)] = []) -> Double? {
        lock.lock()
        defer { lock.unlock() }
        return gauges[name]?[Self.labelText(labels)]
    }

    /// The Prometheus text exposition (version 0.0.4).
    public func render() -> String {
        lock.lock()
        defer { lock.unlock() }
        var out = ""
        for name in help.keys.sorted() {
            let (type, text) = help[name]!
            out += "# HELP \(name) \(text)\n# TYPE \(name) \(type)\n"
            switch type {
            case "counter":
                for (labels, value) in (counters[name] ?? [:]).sorted(by: { $0.key < $1.key }) { out += "\(name)\(labels) \(Self.number(value))\n" }
            case "gauge":
                for (labels, value) in (gauges[name] ?? [:]).sorted(by: { $0.key < $1.key }) { out += "\(name)\(labels) \(Self.number(value))\n" }
            default:
                let histogram = histograms[name] ?? Histogram(bounds: Self.latencyBuckets)
                var cumulative = 0
                for (bound, count) in zip(histogram.bounds, histogram.counts) {
                    cumulative += count
                    out += "\(name)_bucket{le=\"\(Self.number(bound))\"} \(cumulative)\n"
                }
                out += "\(name)_bucket{le=\"+Inf\"} \(histogram.total)\n\(name)_sum \(Self.number(histogram.sum))\n\(name)_count \(histogram.total)\n"
            }
        }
        return out
    }

    static func labelText(_ labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

struct Histogram {
    let bounds: [Double]
    var counts: [Int]
    var sum = 0.0
    var total = 0

    init(bounds: [Double]) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count)
    }

    mutating func observe(_ value: Double, count: Int) {
        if let index = bounds.firstIndex(where: { value <= $0 }) { counts[index] += count }
        sum += value * Double(count)
        total += count
    }
}
