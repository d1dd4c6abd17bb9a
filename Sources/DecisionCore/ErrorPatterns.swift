/// Case-insensitive substrings that classify a failed task's error message (contract section 2.1).
public struct ErrorPatterns: Sendable, Equatable {
    public enum Category: Sendable { case llm, validation }

    public static let defaultLLM = [
        "rate limit", "rate_limit", "too many requests", "429", "content filter", "content_filter",
        "content policy", "context length", "context_length", "maximum context", "token limit", "quota",
        "overloaded",
    ]
    public static let defaultValidation = [
        "validation", "schema", "invalid json", "jsondecodeerror", "parse error", "output format",
        "missing required", "expected format",
    ]

    public let llm: [String]
    public let validation: [String]
    private let llmFolded: [[UInt8]]
    private let validationFolded: [[UInt8]]

    public init(llm: [String] = ErrorPatterns.defaultLLM, validation: [String] = ErrorPatterns.defaultValidation) {
        self.llm = llm
        self.validation = validation
        self.llmFolded = llm.map { Array(caseFolded($0).utf8) }
        self.validationFolded = validation.map { Array(caseFolded($0).utf8) }
    }

    public static func == (lhs: ErrorPatterns, rhs: ErrorPatterns) -> Bool {
        lhs.llm == rhs.llm && lhs.validation == rhs.validation
    }

    /// LLM patterns are tried first: a message matching both kinds is an LLM error.
    public func classify(_ message: String) -> Category? {
        var message = message
        return message.withUTF8 { classify(utf8: $0) }
    }

    /// The category of a message given as its (valid) UTF-8 bytes, as ``classify(_:)`` finds it.
    public func classify(utf8: UnsafeBufferPointer<UInt8>) -> Category? {
        // ASCII text, nearly every message, is folded on the stack; `lowercased()` made a new string and
        // an array per failed task.
        let ascii: Category?? = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: utf8.count) { folded in
            guard Self.foldASCII(utf8, into: folded) else { return nil }
            return .some(category(ofFolded: UnsafeBufferPointer(folded)))
        }
        if let ascii { return ascii }
        let folded = caseFolded(String(decoding: utf8, as: UTF8.self))
        return Array(folded.utf8).withUnsafeBufferPointer { category(ofFolded: $0) }
    }

    /// Lower-cases ASCII letters into `folded` (as many bytes as `text`), eight bytes at a time; `false`
    /// at the first byte that is not ASCII.
    static func foldASCII(_ text: UnsafeBufferPointer<UInt8>, into folded: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs = ones &* 0x80
        let source = UnsafeRawBufferPointer(text)
        let target = UnsafeMutableRawBufferPointer(folded)
        var index = 0
        while index + 8 <= text.count {
            let word = source.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            guard word & highs == 0 else { return false }
            // For a byte below 0x80, adding 0x80 - c sets its high bit exactly when the byte is ≥ c, and
            // carries into no other byte: the high bits left are the bytes from "A" to "Z", and a high bit
            // shifted right by two is the 0x20 that lower-cases them.
            let upper = (word &+ ones &* (0x80 - 0x41)) & ~(word &+ ones &* (0x80 - 0x5B)) & highs
            target.storeBytes(of: word | upper >> 2, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < text.count {
            let byte = text[index]
            guard byte < 0x80 else { return false }
            folded[index] = byte &- 0x41 < 26 ? byte | 0x20 : byte
            index += 1
        }
        return true
    }

    private func category(ofFolded text: UnsafeBufferPointer<UInt8>) -> Category? {
        if llmFolded.contains(where: { text.containsSubsequence($0) }) { return .llm }
        if validationFolded.contains(where: { text.containsSubsequence($0) }) { return .validation }
        return nil
    }
}

/// Lower-cases like Python's `str.lower()` for the case-insensitive match; ASCII takes a fast path.
func caseFolded(_ text: String) -> String {
    var isASCII = true
    var hasUpper = false
    for byte in text.utf8 {
        if byte >= 0x80 {
            isASCII = false
            break
        }
        if byte >= 0x41 && byte <= 0x5A { hasUpper = true }
    }
    if isASCII && !hasUpper { return text }
    return text.lowercased()
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// Whether `needle` occurs as a contiguous run; the empty needle occurs everywhere.
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard needle.count <= count else { return false }
        return needle.withUnsafeBufferPointer { needle in
            let first = needle[0]
            var start = 0
            let last = count - needle.count
            while start <= last {
                if self[start] == first {
                    var offset = 1
                    while offset < needle.count && self[start + offset] == needle[offset] { offset += 1 }
                    if offset == needle.count { return true }
                }
                start += 1
            }
            return false
        }
    }
}
