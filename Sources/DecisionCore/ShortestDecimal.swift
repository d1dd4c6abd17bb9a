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

    /// Writes the shortest text of `value` (infinities and NaN as `description` writes them) from `start`
    /// on, and returns its length; the `maximumLength` bytes from `start` must be writable. Not generic, so
    /// that it costs no more from another module than from this one.
    public static func write(_ value: Double, at start: UnsafeMutablePointer<UInt8>) -> Int {
        let magnitude = value.magnitude
        if magnitude < positionalLimit, nearestInteger(magnitude) == magnitude, value != 0 || value.sign == .plus {
            return writeFixedPoint(UInt64(magnitude), fractionDigits: 0, negative: value < 0, at: start)
        }
        if let (digits, fractionDigits) = fewDigits(magnitude) {
            return writeFixedPoint(digits, fractionDigits: fractionDigits, negative: value < 0, at: start)
        }
        var text = value.description
        return text.withUTF8 { utf8 in
            start.update(from: utf8.baseAddress!, count: utf8.count)
            return utf8.count
        }
    }

    /// Lends the shortest text of `value` to `body` from the stack. Inlinable, so that each caller gets it
    /// specialised: only ``write(_:at:)`` is called across the module boundary.
    @inlinable
    public static func withText<Result>(_ value: Double, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maximumLength) { buffer in
            let length = write(value, at: buffer.baseAddress!)
            return body(UnsafeBufferPointer(start: buffer.baseAddress!, count: length))
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
            let candidate = nearestInteger(scaled)
            if candidate / scale == magnitude { return (UInt64(candidate), fractionDigits) }
        }
        return nil
    }

    /// The integer nearest to `value` (ties to even), for `0 <= value < 2^52`: adding 2^52 leaves no bits
    /// for a fraction, so the sum is rounded to an integer, and subtracting 2^52 again is exact. Only the
    /// nearest integer matters here (a candidate lies within 0.25 of `scaled`; a whole number is its own),
    /// and this costs two additions where `rounded()` is a call into libm without SSE4.1.
    @inline(__always)
    private static func nearestInteger(_ value: Double) -> Double {
        let shift = 4_503_599_627_370_496.0  // 2^52
        return (value + shift) - shift
    }

    /// `digits` with a decimal point `fractionDigits` from the right (`123`, 5 → `0.00123`); a whole number
    /// gets `.0`. At most a sign, 16 digits before the point, the point and 19 after it. The length is
    /// counted first, so that the digits are written once, backwards from the end.
    private static func writeFixedPoint(
        _ digits: UInt64, fractionDigits: Int, negative: Bool, at start: UnsafeMutablePointer<UInt8>
    ) -> Int {
        var digitCount = 1
        var rest = digits / 10
        while rest > 0 {
            digitCount += 1
            rest /= 10
        }
        // A whole number is written with one fraction digit (`.0`); a fraction with at least one digit
        // before the point (`0.5`).
        let written = max(fractionDigits, 1)
        let length = (negative ? 1 : 0) + max(digitCount - fractionDigits, 1) + 1 + written
        var cursor = start + length
        rest = digits
        if fractionDigits == 0 {
            cursor -= 1
            cursor.pointee = UInt8(ascii: "0")
        }
        for _ in 0..<fractionDigits {
            cursor -= 1
            cursor.pointee = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        cursor -= 1
        cursor.pointee = UInt8(ascii: ".")
        repeat {
            cursor -= 1
            cursor.pointee = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        } while rest > 0
        if negative {
            cursor -= 1
            cursor.pointee = UInt8(ascii: "-")
        }
        return length
    }
}
