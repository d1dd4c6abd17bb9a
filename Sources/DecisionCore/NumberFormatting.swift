/// Formats a number for a human sentence: integral values without a fraction, others in their shortest
/// form that reads back to the same `Double`.
public func formatNumber(_ value: Double) -> String {
    if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
        return String(Int64(value))
    }
    return String(describing: value)
}
