import CoreFixtures
import DecisionCore
import Testing

@testable import WireFormat

@Suite("simdjson fast path ≡ reference path")
struct FastPathEquivalenceTests {
    static let base = String(
        decoding: json(
            runResultMembers(extra: [
                (
                    "prompt_analysis",
                    .object(
                        JSONObject([
                            ("prompt_id", .string("p")), ("overall_score", .integer(70)),
                            ("clarity_score", .double(60.5)), ("efficiency_score", .integer(90)),
                            (
                                "issues",
                                .array([
                                    .object(
                                        JSONObject([
                                            ("severity", .string("critical")), ("type", .string("t")),
                                            ("description", .string("d")),
                                        ]))
                                ])
                            ),
                        ]))
                )
            ])), as: UTF8.self)

    /// Replacement values of every JSON type and the numbers where parsers tend to differ.
    static let replacements = [
        "null", "true", "false", "0", "-0", "-0.0", "3.0", "3.5", "-1", "1e400", "-1e400", "1e-400",
        "99999999999999999999",
        "18446744073709551615", "18446744073709551616", "9223372036854775807", "9223372036854775808", "\"\"", "\"x\"",
        "\"succeeded\"", "\"2025-11-19T10:00:00Z\"", "[]", "[1]", "{}", "{\"a\":1}", "0.667", "1E2", "NaN", "Infinity",
        "01", "1.",
        "\"\\ud800\"", "\"\\u0000\"", "\"é\"",
    ]

    /// Mutates one random spot of the document: a value replaced, a member dropped or repeated, bytes cut
    /// or corrupted.
    static func mutate(_ text: String, _ rng: inout SeededGenerator) -> [UInt8] {
        var bytes = Array(text.utf8)
        switch Int.random(in: 0..<10, using: &rng) {
        case 0...4:
            // Replace the value after a random key.
            let colons = bytes.indices.filter { bytes[$0] == UInt8(ascii: ":") }
            guard let colon = colons.randomElement(using: &rng) else { return bytes }
            var end = colon + 1
            var depth = 0
            var inString = false
            while end < bytes.count {
                let byte = bytes[end]
                if inString {
                    if byte == UInt8(ascii: "\\") {
                        end += 2
                        continue
                    }
                    if byte == UInt8(ascii: "\"") { inString = false }
                } else if byte == UInt8(ascii: "\"") {
                    inString = true
                } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                    depth += 1
                } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                    if depth == 0 { break }
                    depth -= 1
                } else if byte == UInt8(ascii: ","), depth == 0 {
                    break
                }
                end += 1
            }
            bytes.replaceSubrange(
                (colon + 1)..<min(end, bytes.count), with: Array(replacements.randomElement(using: &rng)!.utf8))
        case 5:
            // Repeat a member with another value: the last must win on both paths.
            let key = ["\"run_id\"", "\"success_rate\"", "\"task_status\"", "\"total_tasks\"", "\"overall_score\""]
                .randomElement(using: &rng)!
            if let range = text.range(of: key) {
                let insert = "\(key):\(replacements.randomElement(using: &rng)!),"
                var copy = text
                copy.insert(contentsOf: insert, at: range.lowerBound)
                bytes = Array(copy.utf8)
            }
        case 6:
            bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
        case 7:
            bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
        case 8:
            // Drop a member.
            let keys = [
                "\"statistics\"", "\"task_results\"", "\"finished_at\"", "\"completed_tasks\"", "\"execution_time\"",
                "\"clarity_score\"", "\"issues\"",
            ]
            let key = keys.randomElement(using: &rng)!
            if let range = text.range(of: key) {
                let renamed = text.replacingCharacters(in: range, with: "\"renamed_\(key.dropFirst())")
                bytes = Array(renamed.utf8)
            }
        default:
            // Deep nesting in a free-form member.
            let depth = [127, 128, 129, 200].randomElement(using: &rng)!
            let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            bytes = Array(
                text.replacingOccurrences(of: "\"total_duration\"", with: "\"deep\":\(nested),\"total_duration\"").utf8)
        }
        return bytes
    }

    func outcome(_ bytes: [UInt8], fast: SimdJSONParser?) -> Result<RunSubmission, InputRejection> {
        Result { () throws(InputRejection) in try InputDecoder().decode(bytes, fastParser: fast) }
    }

    /// Whether the one-pass reader (`sj_read_run_result`) takes the message, rather than the member-by-member path.
    func readInOnePass(_ bytes: [UInt8], _ fast: SimdJSONParser) -> Bool {
        bytes.withUnsafeBytes { raw in
            fast.parse(raw).flatMap { fast.readRunResult($0, patterns: ErrorPatterns()) } != nil
        }
    }

    @Test func mutatedRunResultsDecodeAlikeOnBothPaths() {
        let fast = SimdJSONParser()
        var rng = SeededGenerator(state: 20251119)
        var decided = 0
        var rejected = 0
        var onePass = 0
        for _ in 0..<4000 {
            var bytes = Array(Self.base.utf8)
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                bytes = Self.mutate(String(decoding: bytes, as: UTF8.self), &rng)
            }
            let reference = outcome(bytes, fast: nil)
            let accelerated = outcome(bytes, fast: fast)
            #expect(reference == accelerated, "differs for \(String(decoding: bytes, as: UTF8.self))")
            if case .success = reference { decided += 1 } else { rejected += 1 }
            if readInOnePass(bytes, fast) { onePass += 1 }
        }
        // Both kinds of outcome are exercised, and the one-pass reader decides (or rejects, by the report's
        // own validation) a share of them.
        #expect(decided > 200 && rejected > 1000, "decided \(decided), rejected \(rejected)")
        #expect(onePass > 200, "read in one pass: \(onePass)")
    }

    /// The one-pass reader takes plain run results, and leaves every unusual spelling to the member-by-member
    /// path, which decodes it as the reference parser does.
    @Test(arguments: [
        // (what, text replaced in the base message, its replacement, read in one pass)
        ("plain", "", "", true),
        ("no analysis", "\"prompt_analysis\"", "\"other\"", true),
        ("null optionals", "\"prompt_id\":\"p\"", "\"prompt_id\":null", true),
        ("repeated member", "{\"run_id\"", "{\"run_id\":\"r0\",\"run_id\"", false),
        ("integral double", "\"total_tasks\":", "\"total_tasks\":4.0,\"x\":", false),
        ("null schema", "{\"run_id\"", "{\"schema\":null,\"run_id\"", false),
        ("unknown status", "\"succeeded\"", "\"done\"", false),
        ("bad timestamp", "\"started_at\":\"", "\"started_at\":\"x", false),
        ("statistics missing", "\"statistics\"", "\"stats\"", false),
        // A task's own rules are checked as the tasks are tallied; one broken sends the run the long way.
        ("empty task id", "\"task_id\":\"c\"", "\"task_id\":\"\"", false),
        ("negative execution time", "\"execution_time\":3", "\"execution_time\":-3", false),
        // Messages are classified on their bytes, folded as Python folds them.
        ("non-ASCII message", "Schema mismatch", "Ungültige Antwort: SCHEMA", true),
    ])
    func onePassReaderTakesPlainRunsOnly(_ name: String, _ find: String, _ replacement: String, _ onePass: Bool) {
        let fast = SimdJSONParser()
        let text = find.isEmpty ? Self.base : Self.base.replacingOccurrences(of: find, with: replacement)
        #expect(find.isEmpty || text != Self.base, "the edit applies")
        let bytes = Array(text.utf8)
        #expect(readInOnePass(bytes, fast) == onePass)
        #expect(outcome(bytes, fast: nil) == outcome(bytes, fast: fast))
    }

    @Test func unmutatedAndSampleMessagesAgree() throws {
        let fast = SimdJSONParser()
        #expect(outcome(Array(Self.base.utf8), fast: nil) == outcome(Array(Self.base.utf8), fast: fast))
        #expect((try? outcome(Array(Self.base.utf8), fast: fast).get()) != nil)
        // Nesting at the limit is accepted by both, one beyond it rejected by both.
        for depth in [JSONParser.maximumDepth - 1, JSONParser.maximumDepth] {
            let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            let bytes = Array(
                Self.base.replacingOccurrences(of: "\"total_duration\"", with: "\"deep\":\(nested),\"total_duration\"")
                    .utf8)
            #expect(outcome(bytes, fast: nil) == outcome(bytes, fast: fast))
        }
    }
}
