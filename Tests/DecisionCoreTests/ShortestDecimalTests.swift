import CoreFixtures
import Testing

@testable import DecisionCore

/// `ShortestDecimal` must write exactly what `description` writes (Python's repr for finite doubles): the
/// decisions are pinned byte for byte. Each family below reaches a different branch or edge.
@Suite("Shortest decimal text")
struct ShortestDecimalTests {
    static func text(_ value: Double) -> String {
        ShortestDecimal.withText(value) { String(decoding: $0, as: UTF8.self) }
    }

    /// Values the decisions are made of, and the edges of each branch.
    static let edges: [Double] = [
        0, -0.0, 1, -1, 0.1, 0.2, 0.1 + 0.2, 0.97, 0.01, 0.667, 2.0 / 3, 1.0 / 3, 5000, 1e-4, 1e-4.nextUp,
        1e-4.nextDown, 1e-5, 0.00012345678901234, 123_456_789_012_345, 1e15, 1e15.nextDown, 1e15.nextUp, 1e15 + 0.5,
        999_999_999_999_999.9, 0.123456789012345, 0.1234567890123456, 9_007_199_254_740_992, 1e16, 1e300, 5e-324,
        .leastNonzeroMagnitude, .greatestFiniteMagnitude, .infinity, -.infinity, .nan, 4.35, 2.675, 1.005, 0.5, 0.25,
        1024.0625, 0.3, 1.1, 2.2, 3.3000000000000003,
    ]

    @Test func edgesAreWrittenAsTheirDescription() {
        for value in Self.edges + Self.edges.map({ -$0 }) {
            #expect(Self.text(value) == value.description, "\(value.description)")
        }
    }

    /// Decimals of 1 to 17 significant digits at every scale from 1e-6 to 1e17, as text read back: the
    /// few-digit branch's whole range and both sides of each of its limits.
    @Test func decimalsOfEveryLengthAreWrittenAsTheirDescription() {
        var generator = SeededGenerator(state: 0x5EED)
        for _ in 0..<300_000 {
            let digits = Int.random(in: 1...17, using: &generator)
            var mantissa = UInt64.random(in: 1...UInt64(9_999_999_999_999_999), using: &generator)
            while mantissa >= pow10(digits) { mantissa /= 10 }
            let exponent = Int.random(in: -22...17, using: &generator)
            let value = Double("\(mantissa)e\(exponent)")!
            guard Self.text(value) == value.description else {
                Issue.record("\(mantissa)e\(exponent): \(Self.text(value)) against \(value.description)")
                return
            }
        }
    }

    /// Arbitrary doubles (every bit pattern of the exponent range around the decimals), and their
    /// neighbours, which need 16 or 17 digits.
    @Test func arbitraryDoublesAreWrittenAsTheirDescription() {
        var generator = SeededGenerator(state: 0xB175)
        for _ in 0..<300_000 {
            let value = Double.random(in: 1e-5...1e16, using: &generator) * (Bool.random(using: &generator) ? 1 : 1e-6)
            for candidate in [value, value.nextUp, value.nextDown] where Self.text(candidate) != candidate.description {
                Issue.record("\(candidate.description) written as \(Self.text(candidate))")
                return
            }
        }
    }

    /// `formatNumber` writes whole numbers below 10^15 without `.0` (`-0` as `0`), the rest as
    /// `description`.
    @Test func sentencesWriteWholeNumbersAsIntegers() {
        for value in Self.edges + Self.edges.map({ -$0 }) {
            let expected =
                value.isFinite && value == value.rounded() && abs(value) < 1e15
                ? String(Int64(value)) : value.description
            #expect(formatNumber(value) == expected)
        }
    }

    private func pow10(_ exponent: Int) -> UInt64 { (0..<exponent).reduce(1) { product, _ in product * 10 } }
}
