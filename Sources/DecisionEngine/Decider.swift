import DecisionCore
import WireFormat

/// What became of one input message.
public enum DecisionOutcome: Sendable {
    /// A new decision: what the service counts of it, and its JSON.
    case decided(DecisionSummary, json: [UInt8])
    /// A run already decided under these rules: nothing is written.
    case duplicate(DecisionKey)
    /// A message that cannot be decided: it goes to the dead letters.
    case rejected(InputRejection)
    /// A message that cannot be decided and whose dead letter is already on the dead-letter topic (a
    /// redelivery after a restart; only the service's state store, which restores dead letters, says so):
    /// nothing is written again.
    case rejectedBefore(InputRejection)
}

/// The one path from message bytes to a decision, shared by `score`, `run` and `replay`: decode, look the
/// run up in the partition's state, decide, encode, remember.
public struct Decider: Sendable {
    public let rules: ScoringRules
    public let rulesFingerprint: String
    public let decoder: InputDecoder

    public init(rules: ScoringRules, maximumMessageBytes: Int = InputDecoder.defaultMaximumMessageBytes) {
        self.rules = rules
        self.rulesFingerprint = rules.fingerprint
        self.decoder = InputDecoder(patterns: rules.errorPatterns, maximumMessageBytes: maximumMessageBytes)
    }

    public func process(
        _ bytes: UnsafeRawBufferPointer, source: MessageSource, nowMs: Int64,
        state: inout PartitionState, scratch: DecisionScratch
    ) -> DecisionOutcome {
        let submission: RunSubmission
        do {
            submission = try decoder.decode(bytes, fastParser: scratch.fastParser)
        } catch {
            return .rejected(error)
        }
        let key = submission.identity.decisionKey(rulesFingerprint: rulesFingerprint)
        if state.contains(key) { return .duplicate(key) }
        let workflowID = submission.report.workflowID
        // Regressions compare with the runs before this one; a variant is compared after its run joined
        // its window (contract 3.2 and 3.3).
        let baseline = state.baseline(for: workflowID)
        state.record(
            key, workflowID: workflowID, point: BaselinePoint(submission.report),
            variant: submission.variant.map { ($0, VariantRun(submission.report)) }, atMs: nowMs)
        let comparison = submission.variant.flatMap { state.variants(of: workflowID).compare($0, rules: rules) }
        let decision = Decision(
            submission: consume submission, rules: rules, rulesFingerprint: rulesFingerprint,
            baseline: baseline, source: source, decidedAtMs: nowMs,
            decisionID: key, variantComparison: comparison)
        return .decided(DecisionSummary(decision), json: scratch.encoder.encode(decision))
    }
}

/// The reusable buffers of one decoding context (the state-store actor, a command): the simdjson parser
/// and the encoder's output buffer. Not shared between threads.
public final class DecisionScratch {
    public var encoder = DecisionEncoder()
    public let fastParser = SimdJSONParser()

    public init() {}
}
