import DecisionCore

/// What the service reads back from a decision on the decisions topic to rebuild its state: the id
/// (deduplication), the rules fingerprint, the workflow and the metrics its history keeps.
public struct DecisionRecord: Sendable, Equatable {
    public var decisionID: DecisionKey
    public var rulesFingerprint: String
    public var workflowID: String
    public var point: BaselinePoint

    /// Reads the fields the state needs; `nil` for anything that is not a decision of this schema
    /// (a foreign message on the topic is skipped, not fatal). With `fastParser` (restores read
    /// millions), simdjson parses; what it rejects gets the reference parser's verdict.
    public static func parse(_ bytes: UnsafeRawBufferPointer, fastParser: SimdJSONParser? = nil) -> DecisionRecord? {
        if let fastParser, let root = fastParser.parse(bytes) { return read(root) }
        guard let root = try? JSONParser.parse(bytes) else { return nil }
        return read(root)
    }

    public static func parse(_ bytes: [UInt8], fastParser: SimdJSONParser? = nil) -> DecisionRecord? {
        bytes.withUnsafeBytes { parse($0, fastParser: fastParser) }
    }

    private static func read<Node: JSONNode>(_ root: Node) -> DecisionRecord? {
        func string(_ node: Node?) -> String? { node.flatMap { $0.kind == .string ? $0.stringValue : nil } }
        func number(_ node: Node?) -> Double? { node.flatMap { $0.kind == .integer || $0.kind == .double ? $0.doubleValue : nil } }
        guard root.kind == .object,
              string(root.member("schema")) == DecisionEncoder.schema,
              let id = string(root.member("decision_id")), let key = DecisionKey(hex: id),
              let fingerprint = string(root.member("rules_fingerprint")),
              let workflowID = string(root.member("workflow_id")),
              let report = root.member("report"), report.kind == .object,
              let successRate = number(report.member("success_rate")),
              let latency = number(report.member("avg_response_time_ms")),
              let cost = number(report.member("cost_per_request"))
        else { return nil }
        return DecisionRecord(
            decisionID: key, rulesFingerprint: fingerprint, workflowID: workflowID,
            point: BaselinePoint(successRate: successRate, avgResponseTimeMs: latency, costPerRequest: cost))
    }
}
