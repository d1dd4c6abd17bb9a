/// Formats a number for a human sentence: integral values without a fraction, others in their shortest
/// form that reads back to the same `Double`.
public func formatNumber(_ value: Double) -> String {
    withNumberText(value) { String(decoding: $0, as: UTF8.self) }
}

/// Lends ``formatNumber``'s text to `body` from the stack, without making a `String`.
func withNumberText<Result>(_ value: Double, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
    // A whole number below 10^15 is written without its `.0` (and `-0` as `0`).
    let isWhole = value.isFinite && value == value.rounded() && abs(value) < ShortestDecimal.positionalLimit
    return ShortestDecimal.withText(isWhole ? Double(Int64(value)) : value) { text in
        body(isWhole ? UnsafeBufferPointer(rebasing: text.dropLast(2)) : text)
    }
}

/// A human sentence (a reason's, a regression's) written into a buffer on the stack, numbers as
/// ``formatNumber`` writes them. A decision's findings are written straight from it into the decision's
/// JSON: building each sentence as a `String` first cost some 2,500 instructions a decision (an array,
/// a string, their release, and the encoder's scan of it).
struct SentenceWriter {
    /// Room for the longest sentence: under 110 bytes of words and at most three numbers of at most
    /// ``ShortestDecimal/maximumLength`` bytes each.
    static let capacity = 256

    private let start: UnsafeMutablePointer<UInt8>
    private var count = 0

    private init(start: UnsafeMutablePointer<UInt8>) { self.start = start }

    /// Writes a sentence with `write` and lends its UTF-8 to `body`.
    static func withSentence(
        _ write: (inout SentenceWriter) -> Void, _ body: (UnsafeBufferPointer<UInt8>) -> Void
    ) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            var writer = SentenceWriter(start: buffer.baseAddress!)
            write(&writer)
            body(UnsafeBufferPointer(start: buffer.baseAddress!, count: writer.count))
        }
    }

    /// The sentence `write` writes, as a `String`.
    static func string(_ write: (inout SentenceWriter) -> Void) -> String {
        var text = ""
        withSentence(write) { text = String(decoding: $0, as: UTF8.self) }
        return text
    }

    mutating func append(_ words: StaticString) {
        words.withUTF8Buffer { append(bytes: $0) }
    }

    mutating func append(_ value: Double) {
        withNumberText(value) { append(bytes: $0) }
    }

    mutating func append(_ value: Int) {
        var text = String(value)  // a count: up to 15 digits stay in the string itself, nothing allocated
        text.withUTF8 { append(bytes: $0) }
    }

    private mutating func append(bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        precondition(count + bytes.count <= Self.capacity, "a sentence longer than its \(Self.capacity) bytes")
        (start + count).update(from: source, count: bytes.count)
        count += bytes.count
    }
}
