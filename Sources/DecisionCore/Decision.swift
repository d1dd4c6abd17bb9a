/// The input shapes of contract section 2.
public enum InputSchema: String, Sendable, CaseIterable {
    case runResult = "executor.run_result/v1"
    case testExecutionReport = "optimizer.test_execution_report/v1"
    case legacyBaselineMetrics = "optimizer.baseline_metrics/legacy"
}

/// What identifies a run for deduplication (contract section 4).
public enum RunIdentity: Sendable, Hashable {
    /// The run's own id, under its workflow.
    case runID(workflowID: String, runID: String)
    /// A legacy message without `run_id`: its workflow and the SHA-256 of the message bytes.
    case contentHash(workflowID: String, sha256Hex: String)

    /// The decision id: the same run under the same rules fingerprint always gets the same id, and
    /// different runs or fingerprints get different ids (128 bits of SHA-256).
    public func decisionKey(rulesFingerprint: String) -> DecisionKey {
        switch self {
        case let .runID(workflowID, runID):
            Self.key(rulesFingerprint, "\u{0}run\u{0}", workflowID, runID)
        case let .contentHash(workflowID, sha256Hex):
            Self.key(rulesFingerprint, "\u{0}sha256\u{0}", workflowID, sha256Hex)
        }
    }

    /// SHA-256 of `optimizer.decision/v1 NUL fingerprint kind workflow NUL id`, the pieces joined in one
    /// buffer on the stack: one call into the hash, nothing allocated but the digest. The pieces are copied
    /// by a cursor passed along, not by a closure over a variable (a captured variable is checked for
    /// exclusive access at run time, 20 instructions a use: a thousand a decision).
    private static func key(
        _ rulesFingerprint: String, _ kind: StaticString, _ workflowID: String, _ id: String
    ) -> DecisionKey {
        let prefix: StaticString = "optimizer.decision/v1\u{0}"
        let separator: StaticString = "\u{0}"
        var (fingerprint, workflow, id) = (rulesFingerprint, workflowID, id)
        return fingerprint.withUTF8 { fingerprint in
            workflow.withUTF8 { workflow in
                id.withUTF8 { id in
                    let length =
                        prefix.utf8CodeUnitCount + fingerprint.count + kind.utf8CodeUnitCount + workflow.count
                        + separator.utf8CodeUnitCount + id.count
                    return withUnsafeTemporaryAllocation(byteCount: length, alignment: 1) { buffer in
                        var cursor = buffer.baseAddress!
                        copy(prefix, to: &cursor)
                        copy(fingerprint, to: &cursor)
                        copy(kind, to: &cursor)
                        copy(workflow, to: &cursor)
                        copy(separator, to: &cursor)
                        copy(id, to: &cursor)
                        return Hashing.withSHA256(of: UnsafeRawBufferPointer(buffer)) { DecisionKey(digest: $0) }
                    }
                }
            }
        }
    }

    private static func copy(_ bytes: UnsafeBufferPointer<UInt8>, to cursor: inout UnsafeMutableRawPointer) {
        guard let source = bytes.baseAddress else { return }
        cursor.copyMemory(from: source, byteCount: bytes.count)
        cursor += bytes.count
    }

    private static func copy(_ text: StaticString, to cursor: inout UnsafeMutableRawPointer) {
        copy(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount), to: &cursor)
    }
}

/// A decision id: 128 bits, written as 32 lower-case hex digits. Compact, so that the dedup state for a
/// million runs stays small.
public struct DecisionKey: Sendable, Hashable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The first 128 bits of a digest, big-endian.
    init(digest: UnsafeRawBufferPointer) {
        self.init(
            high: UInt64(bigEndian: digest.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            low: UInt64(bigEndian: digest.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    /// Parses the 32-hex-digit form; `nil` for anything else.
    public init?(hex: some StringProtocol) {
        guard let key = Array(hex.utf8).withUnsafeBytes({ DecisionKey(hexDigits: $0) }) else { return nil }
        self = key
    }

    /// The same from the digits' UTF-8 bytes, read in place (a restore reads one per decision).
    public init?(hexDigits bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 32 else { return nil }
        var words: [UInt64] = [0, 0]
        for (index, byte) in bytes.enumerated() {
            let digit: UInt64
            switch byte {
            case 0x30...0x39: digit = UInt64(byte - 0x30)
            case 0x61...0x66: digit = UInt64(byte - 0x61 + 10)
            default: return nil
            }
            words[index / 16] = words[index / 16] << 4 | digit
        }
        self.init(high: words[0], low: words[1])
    }

    /// 32 lower-case hexadecimal digits, high word first.
    public var description: String {
        String(unsafeUninitializedCapacity: 32) { out in
            writeHexDigits(to: out.baseAddress!)
            return 32
        }
    }

    /// Lends the 32 digits of ``description`` from the stack: a decision writes its id without a `String`.
    public func withHexDigits<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { out in
            writeHexDigits(to: out.baseAddress!)
            return body(UnsafeBufferPointer(out))
        }
    }

    private func writeHexDigits(to out: UnsafeMutablePointer<UInt8>) {
        let digits: StaticString = "0123456789abcdef"
        for index in 0..<32 {
            let word = index < 16 ? high : low
            let nibble = Int(word >> UInt64(60 - 4 * (index % 16)) & 0xF)
            out[index] = digits.utf8Start[nibble]
        }
    }
}

/// Where the decided message came from.
public struct MessageSource: Sendable, Equatable {
    public var topic: String?
    public var partition: Int32?
    public var offset: Int64?
    public var timestampMs: Int64?

    public init(topic: String?, partition: Int32?, offset: Int64?, timestampMs: Int64?) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMs = timestampMs
    }
}

/// A validated input message: the report, the optional analysis, its shape and its identity.
public struct RunSubmission: Sendable, Equatable {
    public var report: TestExecutionReport
    public var analysis: PromptAnalysis?
    public var schema: InputSchema
    public var identity: RunIdentity
    /// The variant the run tested (`metadata.variant`, contract section 3.3), if it named a valid one.
    public var variant: String?

    public init(
        report: TestExecutionReport, analysis: PromptAnalysis?, schema: InputSchema, identity: RunIdentity,
        variant: String? = nil
    ) {
        self.report = report
        self.analysis = analysis
        self.schema = schema
        self.identity = identity
        self.variant = variant
    }
}

/// One decision per run (contract section 4).
public struct Decision: Sendable, Equatable {
    public var decisionID: DecisionKey
    public var submission: RunSubmission
    public var verdict: Verdict
    public var rulesFingerprint: String
    public var source: MessageSource
    public var decidedAtMs: Int64
    /// The run's variant against its baseline variant; `nil` for a run without a variant.
    public var variantComparison: VariantComparison?

    public var report: TestExecutionReport { submission.report }
    public var analysis: PromptAnalysis? { submission.analysis }

    /// `decisionID`, when the caller has computed the run's key already, must be
    /// `submission.identity.decisionKey(rulesFingerprint:)`.
    public init(
        submission: consuming RunSubmission, rules: ScoringRules, rulesFingerprint: String,
        baseline: [BaselinePoint], source: MessageSource, decidedAtMs: Int64, decisionID: DecisionKey? = nil,
        variantComparison: VariantComparison? = nil
    ) {
        // Not `??`: its autoclosure would capture (copy) the submission.
        if let decisionID {
            self.decisionID = decisionID
        } else {
            self.decisionID = submission.identity.decisionKey(rulesFingerprint: rulesFingerprint)
        }
        self.verdict = rules.verdict(for: submission.report, analysis: submission.analysis, baseline: baseline)
        // Last: the submission moves in, its members not retained a second time.
        self.submission = submission
        self.rulesFingerprint = rulesFingerprint
        self.source = source
        self.decidedAtMs = decidedAtMs
        self.variantComparison = variantComparison
    }
}
