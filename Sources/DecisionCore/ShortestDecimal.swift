/// A finite double's shortest text that reads back to the same value, as Python's `repr` and Swift's
/// `description` write it (`0.97`, `5000.0`, `0.6666666666666666`, `1e-05`), handed over as bytes.
///
/// `description` costs some 400 instructions a number and a `String`; a decision writes about twenty
/// numbers. Most of them are whole or have few digits, and for those the shortest text is found with a
/// few multiplications:
/// - whole numbers below 10^15 are their digits and `.0`;
/// - for `1e-4 <= |value| < 1e15`, if some decimal of at most 15 significant digits reads back to the
///   value, the one with the fewest fraction digits is its shortest text. Such decimals are at least
///   4.5 times further apart than the doubles that read back to them, so at most one of them reads back
///   to the value and it is the nearest (no tie to break); `(value * 10^k).rounded()` finds it, since
///   the product's rounding error (under 0.25 below 10^15) cannot move it to another integer; and
///   `candidate / 10^k` is exactly what reading the decimal back gives (powers of ten up to 10^22 are
///   exact doubles, and the division rounds once, as parsing does).
/// Everything else (16 or 17 digits, exponents) is `description`'s.
public enum ShortestDecimal {
    /// Below this, whole doubles and the decimals tried here have at most 15 digits, and `description`
    /// writes them positionally (it writes exponents from 2^53, Python's `repr` from 10^16).
    public static let positionalLimit = 1e15

    /// The most bytes a double's text takes (`-2.2250738585072014e-308` is 24).
    public static let maximumLength = 32

    /// Writes the shortest text of `value` (infinities and NaN as `description` writes them) to end just
    /// before `end`, and returns its length; the `maximumLength` bytes before `end` must be writable.
    /// Written backwards, so that digits need no second pass; not generic, so that it costs no more from
    /// another module than from this one.
    public static func write(_ value: Double, before end: UnsafeMutablePointer<UInt8>) -> Int {
        let magnitude = value.magnitude
        if magnitude.rounded(.towardZero) == magnitude, magnitude < positionalLimit, value != 0 || value.sign == .plus {
            return writeFixedPoint(UInt64(magnitude), fractionDigits: 0, negative: value < 0, before: end)
        }
        if let (digits, fractionDigits) = fewDigits(magnitude) {
            return writeFixedPoint(digits, fractionDigits: fractionDigits, negative: value < 0, before: end)
        }
        var text = value.description
        return text.withUTF8 { utf8 in
            (end - utf8.count).update(from: utf8.baseAddress!, count: utf8.count)
            return utf8.count
        }
    }

    /// Lends the shortest text of `value` to `body` from the stack. Inlinable, so that each caller gets it
    /// specialised: only ``write(_:before:)`` is called across the module boundary.
    @inlinable
    public static func withText<Result>(_ value: Double, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maximumLength) { buffer in
            let end = buffer.baseAddress! + buffer.count
            let length = write(value, before: end)
            return body(UnsafeBufferPointer(start: end - length, count: length))
        }
    }

    /// The value as `digits / 10^fractionDigits` with the fewest fraction digits, when that has at most 15
    /// significant digits and `1e-4 <= magnitude < 1e15` (see the type's comment for why it is exact).
    static func fewDigits(_ magnitude: Double) -> (UInt64, Int)? {
        guard magnitude >= 1e-4 else { return nil }
        var scale = 1.0
        for fractionDigits in 1...19 {
            scale *= 10
            let scaled = magnitude * scale
            guard scaled < positionalLimit else { return nil }
            let candidate = scaled.rounded()
            if candidate / scale == magnitude { return (UInt64(candidate), fractionDigits) }
        }
        return nil
    }

    /// `digits` with a decimal point `fractionDigits` from the right (`123`, 5 → `0.00123`); a whole number
    /// gets `.0`. At most a sign, 16 digits before the point, the point and 19 after it.
    private static func writeFixedPoint(
        _ digits: UInt64, fractionDigits: Int, negative: Bool, before end: UnsafeMutablePointer<UInt8>
    ) -> Int {
        var start = end
        var rest = digits
        if fractionDigits == 0 {
            start -= 1
            start.pointee = UInt8(ascii: "0")
        }
        for _ in 0..<fractionDigits {
            start -= 1
            start.pointee = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        start -= 1
        start.pointee = UInt8(ascii: ".")
        repeat {
            start -= 1
            start.pointee = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        } while rest > 0
        if negative {
            start -= 1
            start.pointee = UInt8(ascii: "-")
        }
        return end - start
    }
}
