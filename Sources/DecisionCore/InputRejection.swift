/// Why a message cannot be decided: the dead-letter reason codes of the contract (section 5).
public enum RejectionReason: String, Sendable, CaseIterable {
    case invalidJSON = "invalid_json"
    case tooLarge = "too_large"
    case unsupportedSchema = "unsupported_schema"
    case missingField = "missing_field"
    case wrongType = "wrong_type"
    case invalidValue = "invalid_value"
    case inconsistent = "inconsistent"
}

/// A message that breaks a rule of the contract: the reason code and a sentence that names the field.
public struct InputRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: RejectionReason
    /// The field's path in the message, e.g. `statistics.success_rate` or `task_results[3].task_status`;
    /// empty for the message as a whole.
    public var field: String
    public var message: String

    public init(_ reason: RejectionReason, field: String, _ message: String) {
        self.reason = reason
        self.field = field
        self.message = message
    }

    public var description: String { message }

    static func invalidValue(_ field: String, _ rule: String) -> InputRejection {
        InputRejection(.invalidValue, field: field, "\(field) \(rule)")
    }
}

/// Range checks shared by every shape's validation; each failure names the field. Field paths are
/// autoclosures, built only for an error: built eagerly, the per-task paths cost more than the checks.
enum Check {
    /// The largest count accepted (2^53, the largest integer a double holds exactly): far beyond any real
    /// number of tests or tokens, and small enough that sums of counts can never overflow.
    static let maximumCount = 1 << 53

    static func nonNegative(_ value: Int, _ field: @autoclosure () -> String) throws(InputRejection) {
        guard value >= 0 else { throw .invalidValue(field(), "must be ≥ 0, got \(value)") }
        guard value <= maximumCount else {
            throw .invalidValue(field(), "must be at most \(maximumCount), got \(value)")
        }
    }

    static func nonNegative(_ value: Double, _ field: @autoclosure () -> String) throws(InputRejection) {
        try finite(value, field())
        guard value >= 0 else { throw .invalidValue(field(), "must be ≥ 0, got \(formatNumber(value))") }
    }

    static func unitInterval(_ value: Double, _ field: @autoclosure () -> String) throws(InputRejection) {
        try finite(value, field())
        guard value >= 0, value <= 1 else {
            throw .invalidValue(field(), "must be between 0 and 1, got \(formatNumber(value))")
        }
    }

    static func score(_ value: Double, _ field: @autoclosure () -> String) throws(InputRejection) {
        try finite(value, field())
        guard value >= 0, value <= 100 else {
            throw .invalidValue(field(), "must be between 0 and 100, got \(formatNumber(value))")
        }
    }

    static func finite(_ value: Double, _ field: @autoclosure () -> String) throws(InputRejection) {
        guard value.isFinite else { throw .invalidValue(field(), "must be a finite number") }
    }

    static func nonEmpty(_ value: String, _ field: @autoclosure () -> String) throws(InputRejection) {
        guard !value.isEmpty else { throw .invalidValue(field(), "must not be empty") }
    }

    /// The seed's consistency rule: a stated rate must lie within 0.001 of the counted one, compared in
    /// binary floating point exactly as Python does (`abs(stated - counted) > 0.001` rejects).
    static func rateAgrees(
        _ stated: Double, counted: Double, _ field: @autoclosure () -> String, _ explanation: String
    ) throws(InputRejection) {
        guard abs(stated - counted) <= 0.001 else {
            let field = field()
            throw InputRejection(
                .inconsistent, field: field,
                "\(field) \(formatNumber(stated)) disagrees with \(explanation) = \(formatNumber(counted)) by more than 0.001"
            )
        }
    }
}
