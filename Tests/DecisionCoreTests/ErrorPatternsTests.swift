import Testing

@testable import DecisionCore

@Suite("Error messages folded for their patterns")
struct ErrorPatternsTests {
    /// Every ASCII byte, at every position of an eight-byte word and in the tail, folds as Python's
    /// `str.lower()` folds it; a byte from 0x80 up stops the ASCII fold wherever it stands.
    @Test func asciiFoldsEightBytesAtATimeAsLowercasingDoes() {
        for length in [1, 7, 8, 9, 16, 23] {
            for position in 0..<length {
                for byte in UInt8(0)..<0x80 {
                    var text = [UInt8](repeating: UInt8(ascii: "Q"), count: length)
                    text[position] = byte
                    let expected = Array(String(decoding: text, as: UTF8.self).lowercased().utf8)
                    var folded = [UInt8](repeating: 0, count: length)
                    let isASCII = text.withUnsafeBufferPointer { source in
                        folded.withUnsafeMutableBufferPointer { ErrorPatterns.foldASCII(source, into: $0) }
                    }
                    #expect(isASCII && folded == expected, "byte \(byte) at \(position) of \(length)")
                }
                var text = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                text[position] = 0xC3
                var folded = [UInt8](repeating: 0, count: length)
                let isASCII = text.withUnsafeBufferPointer { source in
                    folded.withUnsafeMutableBufferPointer { ErrorPatterns.foldASCII(source, into: $0) }
                }
                #expect(!isASCII, "0xC3 at \(position) of \(length)")
            }
        }
    }

    /// Messages of both kinds, long and short, ASCII and not (folded by `lowercased()`).
    @Test func messagesAreClassifiedByTheirFoldedText() {
        let patterns = ErrorPatterns()
        #expect(patterns.classify("Rate limit exceeded (429) while calling the model") == .llm)
        #expect(patterns.classify("the model is OVERLOADED") == .llm)
        #expect(patterns.classify("OUTPUT FORMAT wrong") == .validation)
        #expect(patterns.classify("Ungültige Antwort: SCHEMA") == .validation)
        #expect(patterns.classify("ÜBER QUOTA") == .llm)
        #expect(patterns.classify("connection reset") == nil)
        #expect(patterns.classify("") == nil)
    }
}
