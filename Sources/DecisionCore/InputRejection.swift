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
}
