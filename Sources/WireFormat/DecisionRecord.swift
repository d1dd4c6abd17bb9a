import DecisionCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the service reads back from a decision on the decisions topic to rebuild its state: the id
/// (deduplication), the rules fingerprint, the workflow, the metrics its history keeps and, for a run
/// with a variant, what the variant table keeps (contract section 3.3).
public struct DecisionRecord: Sendable, Equatable {
    public var decisionID: DecisionKey
    public var rulesFingerprint: String
    public var workflowID: String
    public var point: BaselinePoint
    public var variant: VariantRecord?

    /// A decided run of a variant, as its decision wrote it.
    public struct VariantRecord: Sendable, Equatable {
        public var name: String
        /// The baseline the variant was compared against in that decision.
        public var baseline: String?
        public var run: VariantRun

        public init(name: String, baseline: String?, run: VariantRun) {
            self.name = name
            self.baseline = baseline
            self.run = run
        }
    }

    /// Reads the fields the state needs; `nil` for anything that is not a decision of this schema
    /// (a foreign message on the topic is skipped, not fatal). With `fastParser` (restores read
    /// millions), simdjson parses; what it rejects gets the reference parser's verdict.
    /// With `fingerprint`, only a decision of those rules (`nil` for any other, its fingerprint compared
    /// in place: a restore reads millions and keeps only its own).
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, fastParser: SimdJSONParser? = nil, fingerprint: String? = nil
    ) -> DecisionRecord? {
        if let fastParser, let root = fastParser.parse(bytes) { return read(root, fingerprint: fingerprint) }
        guard let root = try? JSONParser.parse(bytes) else { return nil }
        return read(root, fingerprint: fingerprint)
    }

    public static func parse(_ bytes: [UInt8], fastParser: SimdJSONParser? = nil, fingerprint: String? = nil)
        -> DecisionRecord?
    {
        bytes.withUnsafeBytes { parse($0, fastParser: fastParser, fingerprint: fingerprint) }
    }

    /// Whether `node` is the string `text`, compared as bytes, no `String` made.
    private static func isString<Node: JSONNode>(_ node: Node?, _ text: String) -> Bool {
        guard let node, node.kind == .string else { return false }
        var text = text
        return node.withUTF8 { bytes in
            text.withUTF8 { expected in
                bytes.count == expected.count
                    && (bytes.isEmpty || memcmp(bytes.baseAddress!, expected.baseAddress!, bytes.count) == 0)
            }
        }
    }

    private static func read<Node: JSONNode>(_ root: Node, fingerprint expected: String?) -> DecisionRecord? {
        func string(_ node: Node?) -> String? { node.flatMap { $0.kind == .string ? $0.stringValue : nil } }
        func number(_ node: Node?) -> Double? {
            node.flatMap { $0.kind == .integer || $0.kind == .double ? $0.doubleValue : nil }
        }
        func integer(_ node: Node?) -> Int? {
            node.flatMap { $0.kind == .integer ? Int(exactly: $0.integerValue) : nil }
        }
        func fingerprint() -> String? {
            let node = root.member(DecisionField.rulesFingerprint)
            guard let expected else { return string(node) }
            return isString(node, expected) ? expected : nil
        }
        guard root.kind == .object, isString(root.member(DecisionField.schema), DecisionEncoder.schema),
            let id = root.member(DecisionField.decisionID), id.kind == .string,
            let key = id.withUTF8({ DecisionKey(hexDigits: $0) }),
            let fingerprint = fingerprint(),
            let workflowID = string(root.member(DecisionField.workflowID)),
            let report = root.member(DecisionField.report), report.kind == .object,
            let successRate = number(report.member(InputField.Report.successRate)),
            let latency = number(report.member(InputField.Report.avgResponseTimeMs)),
            let cost = number(report.member(InputField.Report.costPerRequest))
        else { return nil }
        var variant: VariantRecord?
        // A decision written before variants existed has neither field: its run has no variant.
        if let name = string(root.member(DecisionField.variant)),
            let successful = integer(report.member(InputField.Report.successfulTests)),
            let total = integer(report.member(InputField.Report.totalTests)),
            let cancelled = integer(report.member(InputField.Report.cancelledTests))
        {
            let baseline = root.member(DecisionField.variantComparison).flatMap {
                $0.kind == .object ? string($0.member(DecisionField.Comparison.baselineVariant)) : nil
            }
            variant = VariantRecord(
                name: name, baseline: baseline,
                run: VariantRun(
                    successful: successful, completed: total - cancelled, avgResponseTimeMs: latency,
                    costPerRequest: cost))
        }
        return DecisionRecord(
            decisionID: key, rulesFingerprint: fingerprint, workflowID: workflowID,
            point: BaselinePoint(successRate: successRate, avgResponseTimeMs: latency, costPerRequest: cost),
            variant: variant)
    }
}
