import DecisionCore
import Testing

@testable import WireFormat

func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

func parseError(_ bytes: [UInt8]) -> InputRejection? {
    do {
        _ = try JSONParser.parse(bytes)
        return nil
    } catch {
        return error
    }
}

@Suite("JSON parser")
struct JSONParserTests {
    @Test func values() throws {
        #expect(
            try parse(" {\"a\": [1, -2, 3.5, 1e2, true, false, null, \"x\"]} ")
                == .object(
                    JSONObject([
                        (
                            "a",
                            .array([
                                .integer(1), .integer(-2), .double(3.5), .double(100), .bool(true), .bool(false), .null,
                                .string("x"),
                            ])
                        )
                    ])))
        #expect(try parse("0") == .integer(0))
        #expect(try parse("-0") == .integer(0))
        #expect(try parse("-0.0") == .double(-0.0))
        #expect(try parse("9223372036854775807") == .integer(Int64.max))
        #expect(try parse("-9223372036854775808") == .integer(Int64.min))
        #expect(try parse("9223372036854775808") == .double(9223372036854775808))
        #expect(try parse("1E-2") == .double(0.01))
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object(JSONObject()))
    }

    @Test func strings() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{c}\n\r\t"))
        #expect(try parse(#""\u00e9\u4e2d\ud83d\ude00""#) == .string("é中😀"))
        #expect(try parse("\"é中😀\"") == .string("é中😀"))
    }

    @Test func duplicateKeysLastWinsLikePython() throws {
        guard case let .object(object) = try parse(#"{"a": 1, "b": 2, "a": 3}"#) else {
            Issue.record("not an object")
            return
        }
        #expect(object["a"] == .integer(3))
        #expect(object.uniqueMembers.map(\.key) == ["a", "b"])
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "1e", "+1", "NaN", "Infinity", "-Infinity", "nan",
        "tru", "nul", "{'a':1}", "{\"a\" 1}", "[1 2]", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"",
        "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\u{1}b\"", "{} {}", "[1]x", "{\"a\":}", "-", "--1", "1e+",
    ])
    func rejects(_ text: String) {
        #expect(parseError(Array(text.utf8))?.reason == .invalidJSON)
    }

    @Test func rejectsInvalidUTF8() {
        for bytes: [UInt8] in [
            [0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22],
            [0xEF, 0xBB, 0xBF, 0x7B, 0x7D],
        ] {
            #expect(parseError(bytes)?.reason == .invalidJSON)
        }
        #expect(parseError([0x22, 0x5C, 0x6E, 0xFF, 0x22])?.reason == .invalidJSON)
    }

    @Test func nestingIsBounded() throws {
        let ok =
            String(repeating: "[", count: JSONParser.maximumDepth)
            + String(repeating: "]", count: JSONParser.maximumDepth)
        _ = try parse(ok)
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = parseError(Array(deep.utf8))
        #expect(error?.reason == .invalidJSON)
        #expect(error?.message.contains("nesting") == true)
    }

    @Test func hugeNumbersParseAsInfiniteDoubles() throws {
        #expect(try parse("1e400") == .double(.infinity))
        #expect(try parse("123456789012345678901234567890") == .double(1.2345678901234568e29))
    }

    @Test func errorsSayWhere() {
        #expect(parseError(Array("{\"a\": x}".utf8))?.message == "invalid JSON at byte 6: unexpected character 'x'")
    }
}

@Suite("JSON writer")
struct JSONWriterTests {
    @Test func roundTripsEveryValue() throws {
        let value = JSONValue.object(
            JSONObject([
                ("s", .string("quote\" backslash\\ newline\n tab\t ctl\u{1} é 😀")),
                (
                    "n",
                    .array([
                        .integer(-5), .double(0.1), .double(5000), .double(1e-5), .double(1.7976931348623157e308),
                        .null, .bool(true),
                    ])
                ),
                ("o", .object(JSONObject([("k", .array([]))]))),
            ]))
        var writer = JSONWriter()
        writer.value(value)
        #expect(try JSONParser.parse(writer.bytes) == value)
    }

    @Test func integersAtEveryEdge() {
        var writer = JSONWriter()
        writer.beginArray()
        for value: Int64 in [0, 7, -7, 10, -10, 1_000_000, .max, .min] { writer.integer(value) }
        writer.integer(UInt64.max)
        writer.integer(Int32.min)
        writer.endArray()
        #expect(
            String(decoding: writer.bytes, as: UTF8.self)
                == "[0,7,-7,10,-10,1000000,9223372036854775807,-9223372036854775808,18446744073709551615,-2147483648]")
    }

    /// The word-at-a-time check agrees with the byte-by-byte rule for every byte value at every
    /// position of a word, next to ordinary, high and special neighbours.
    @Test func escapeCheckAgreesWithTheByteRule() {
        func byteRule(_ bytes: [UInt8]) -> Bool { bytes.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C } }
        for filler: UInt8 in [0x61, 0xC3, 0xFF, 0x21, 0x5B, 0x5D, 0x20] {
            for length in [7, 8, 9, 16, 17] {
                for position in 0..<length {
                    for value in UInt8.min...UInt8.max {
                        var bytes = [UInt8](repeating: filler, count: length)
                        bytes[position] = value
                        let fast = bytes.withUnsafeBytes { JSONWriter.needsEscaping($0) }
                        if fast != byteRule(bytes) {
                            Issue.record("filler \(filler), length \(length), byte \(value) at \(position): \(fast)")
                            return
                        }
                    }
                }
            }
        }
    }

    /// Numbers are written as `description` writes them (Python's repr for finite doubles), whole ones by
    /// the digits path included, on both sides of its limit (`ShortestDecimalTests` tries the rest).
    @Test func numbersAreWrittenAsTheirDescription() {
        let limit = ShortestDecimal.positionalLimit
        var values: [Double] = [
            0, -0.0, 1, -1, 5000, 0.1, -2.5, 1e-5, 123_456_789_012_345, limit, limit - 1, -(limit - 1), 2e15,
            9_007_199_254_740_992, 1e16, 1e300, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            values.append(Double(Int64.random(in: -2_000_000_000_000_000...2_000_000_000_000_000, using: &generator)))
            values.append(Double.random(in: -1e6...1e6, using: &generator).rounded())
        }
        for value in values {
            var writer = JSONWriter()
            writer.number(value)
            let written = String(decoding: writer.bytes, as: UTF8.self)
            if written != value.description {
                Issue.record("\(value.description) written as \(written)")
                return
            }
        }
    }

    /// A writer starting with less room than one piece grows, keeping what it holds.
    @Test func growsPastItsCapacity() throws {
        let long = String(repeating: "é\"x", count: 500)
        var writer = JSONWriter(capacity: 1)
        writer.beginArray()
        for _ in 0..<3 { writer.string(long) }
        writer.endArray()
        #expect(
            try JSONParser.parse(writer.bytes) == .array([.string(long), .string(long), .string(long)]))
        writer.reset()
        writer.null()
        #expect(writer.bytes == Array("null".utf8))
    }

    @Test func controlCharactersAreEscaped() {
        var writer = JSONWriter()
        writer.string("\u{0}\u{1f}")
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #""\u0000\u001f""#)
    }
}

@Suite("RFC 3339")
struct RFC3339Tests {
    @Test func parses() {
        #expect(RFC3339.millisecondsSinceEpoch("1970-01-01T00:00:00Z") == 0)
        #expect(RFC3339.millisecondsSinceEpoch("2025-11-19T10:00:00.250Z") == 1_763_546_400_250)
        #expect(RFC3339.millisecondsSinceEpoch("2025-11-19T11:00:00.25+01:00") == 1_763_546_400_250)
        #expect(RFC3339.millisecondsSinceEpoch("2025-11-19t10:00:00.123456789z") == 1_763_546_400_123)
        #expect(RFC3339.millisecondsSinceEpoch("2024-02-29T00:00:00Z") != nil)
    }

    @Test(arguments: [
        "", "2025-11-19", "2025-11-19T10:00:00", "2025-13-01T00:00:00Z", "2023-02-29T00:00:00Z",
        "2025-11-19T24:00:00Z", "2025-11-19T10:00:00.Z", "2025-11-19T10:00:00+0100", "2025-11-19T10:00:00Zx",
        "2025/11/19T10:00:00Z", "20251119T100000Z",
    ])
    func rejects(_ text: String) {
        #expect(RFC3339.millisecondsSinceEpoch(text) == nil)
    }

    @Test func formatsAndRoundTrips() {
        #expect(RFC3339.format(millisecondsSinceEpoch: 0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(millisecondsSinceEpoch: 1_763_546_400_250) == "2025-11-19T10:00:00.250Z")
        #expect(RFC3339.format(millisecondsSinceEpoch: -1) == "1969-12-31T23:59:59.999Z")
        #expect(RFC3339.format(millisecondsSinceEpoch: 253_402_300_799_999) == "9999-12-31T23:59:59.999Z")
        for ms: Int64 in [-1, 951_782_400_000, 4_102_444_800_999, 1_709_164_800_000] {
            #expect(RFC3339.millisecondsSinceEpoch(RFC3339.format(millisecondsSinceEpoch: ms)) == ms)
        }
    }

    /// The text a decision is written with (lent from the stack) is `format`'s, beyond four-digit years too.
    @Test(arguments: [Int64(0), -1, 1_763_546_400_250, 253_402_300_799_999, 253_402_300_800_000, -62_167_219_200_001])
    func lentTextIsTheFormattedText(_ ms: Int64) {
        var lent = ""
        RFC3339.withText(millisecondsSinceEpoch: ms) { lent = String(decoding: $0, as: UTF8.self) }
        #expect(lent == RFC3339.format(millisecondsSinceEpoch: ms))
        #expect(!lent.isEmpty)
    }
}
