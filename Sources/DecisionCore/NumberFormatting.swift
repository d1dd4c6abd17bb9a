/// Formats a number for a human sentence: integral values without a fraction, others in their shortest
/// form that reads back to the same `Double`.
public func formatNumber(_ value: Double) -> String {
    var bytes: [UInt8] = []
    appendNumberText(value, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
}

/// Appends ``formatNumber``'s text to `bytes`, without making a `String`.
func appendNumberText(_ value: Double, to bytes: inout [UInt8]) {
    // A whole number below 10^15 is written without its `.0` (and `-0` as `0`).
    let isWhole = value.isFinite && value == value.rounded() && abs(value) < ShortestDecimal.positionalLimit
    ShortestDecimal.withText(isWhole ? Double(Int64(value)) : value) { text in
        bytes.append(contentsOf: isWhole ? UnsafeBufferPointer(rebasing: text.dropLast(2)) : text)
    }
}

/// A human sentence (a reason's, a regression's), its pieces put together in one buffer and made a
/// `String` once, numbers written as ``formatNumber`` writes them: interpolating into a `String` cost
/// some 600 instructions a piece, a few thousand a decision.
public struct Sentence: ExpressibleByStringInterpolation {
    public let text: String

    public init(stringLiteral value: StaticString) {
        text = value.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
    }

    public init(stringInterpolation: Interpolation) {
        text = String(decoding: stringInterpolation.bytes, as: UTF8.self)
    }

    public struct Interpolation: StringInterpolationProtocol {
        var bytes: [UInt8] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            bytes.reserveCapacity(literalCapacity + 24 * interpolationCount)
        }

        public mutating func appendLiteral(_ literal: StaticString) {
            literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }

        public mutating func appendInterpolation(_ value: Double) { appendNumberText(value, to: &bytes) }

        public mutating func appendInterpolation(_ value: Int) { appendInterpolation(String(value)) }

        public mutating func appendInterpolation(_ value: String) {
            var value = value
            value.withUTF8 { bytes.append(contentsOf: $0) }
        }
    }
}
