import DecisionCore

/// What the service reads back from a decision on the decisions topic to rebuild its state: the id
/// (deduplication), the rules fingerprint, the workflow and the metrics its history keeps.
public struct DecisionRecord: Sendable, Equatable {
    public var decisionID: DecisionKey
    public var rulesFingerprint: String
    public var workflowID: String
    public var point: BaselinePoint

    /// Reads the fields the state needs; `nil` for anything that is not a decision of this schema
    /// (a foreign message on the topic is skipped, not fatal).
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> DecisionRecord? {
        guard case let .object(object)? = try? JSONParser.parse(bytes),
              case .string(DecisionEncoder.schema)? = object["schema"],
              case let .string(id)? = object["decision_id"], let key = DecisionKey(hex: id),
              case let .string(fingerprint)? = object["rules_fingerprint"],
              case let .string(workflowID)? = object["workflow_id"],
              case let .object(report)? = object["report"],
              let successRate = report["success_rate"]?.numberValue,
              let latency = report["avg_response_time_ms"]?.numberValue,
              let cost = report["cost_per_request"]?.numberValue
        else { return nil }
        return DecisionRecord(
            decisionID: key, rulesFingerprint: fingerprint, workflowID: workflowID,
            point: BaselinePoint(successRate: successRate, avgResponseTimeMs: latency, costPerRequest: cost))
    }

    public static func parse(_ bytes: [UInt8]) -> DecisionRecord? {
        bytes.withUnsafeBytes { parse($0) }
    }
}

extension JSONValue {
    /// The value of a number, `nil` for anything else.
    var numberValue: Double? { kind == .integer || kind == .double ? doubleValue : nil }
}
