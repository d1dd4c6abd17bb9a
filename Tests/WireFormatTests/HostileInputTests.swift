import CoreFixtures
import DecisionCore
import Foundation
import Testing

@testable import WireFormat

/// Hostile input, generated: every input must end as a decision or a dead letter, never a crash or a
/// hang, and both decoding paths must agree. The seeds are the committed corpus in `Fuzz/corpus`; the
/// iteration count is bounded for CI and can be raised with `FUZZ_ITERATIONS`.
@Suite("Hostile input")
struct HostileInputTests {
    static let seeds: [[UInt8]] = {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../Fuzz/corpus")
        let files = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        return files.sorted { $0.path < $1.path }.compactMap { try? Array(Data(contentsOf: $0)) }
    }()

    static let iterations = Int(ProcessInfo.processInfo.environment["FUZZ_ITERATIONS"] ?? "") ?? 3000

    /// One hostile transformation of a seed.
    static func hostile(_ seed: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var bytes = seed
        switch Int.random(in: 0..<12, using: &rng) {
        case 0: return (0..<Int.random(in: 0..<512, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        case 1: return Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
        case 2:
            let depth = Int.random(in: 100...5000, using: &rng)
            return Array(
                (String(repeating: "{\"a\":[", count: depth) + "1" + String(repeating: "]}", count: depth)).utf8)
        case 3:
            let numbers = [
                "1e999999", "-1e999999", "123456789012345678901234567890123456789",
                "0.0000000000000000000000000001e-400", "NaN", "-NaN",
                "Infinity", "-Infinity", "inf", "nan", "1e", "-", "0x10", "1_000", "+1", ".5", "5.", "00", "-01",
            ]
            let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(
                of: "0.9", with: numbers.randomElement(using: &rng)!)
            return Array(text.utf8)
        case 4:
            let insert: [UInt8] = [0xFF, 0xC0, 0xAF, 0xED, 0xA0, 0x80, 0xF8, 0x88, 0x80, 0x80, 0x80].shuffled(
                using: &rng)
            bytes.insert(
                contentsOf: insert.prefix(Int.random(in: 1...4, using: &rng)),
                at: Int.random(in: 0...bytes.count, using: &rng))
        case 5:
            let long = String(repeating: "x", count: Int.random(in: 10_000...300_000, using: &rng))
            return Array(
                String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\"wf-", with: "\"\(long)").utf8)
        case 6:
            // Wrong types in every field at once.
            let kinds = ["null", "true", "[]", "{}", "\"s\"", "1.5", "-7"]
            var text = String(decoding: bytes, as: UTF8.self)
            for number in ["0.9", "20", "17", "1", "3.23", "0.084", "1.2"] {
                text = text.replacingOccurrences(of: ":\(number)", with: ":\(kinds.randomElement(using: &rng)!)")
            }
            return Array(text.utf8)
        case 7:
            // Duplicate keys everywhere.
            return Array(
                String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "{\"", with: "{\"run_id\":7,\"").utf8)
        case 8:
            return Array(String(repeating: "[", count: 200_000).utf8)
        case 9:
            return Array("{\"success_rate\": \"\(String(repeating: "\\u0000", count: 1000))\"}".utf8)
        case 10:
            return Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\"", with: "'").utf8)
        default:
            for _ in 0..<Int.random(in: 1...8, using: &rng) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
        }
        return bytes
    }

    @Test func everyInputEndsAsADecisionOrADeadLetterAndThePathsAgree() {
        #expect(Self.seeds.count >= 10, "the seed corpus is missing")
        let decoder = InputDecoder()
        let fast = SimdJSONParser()
        var rng = SeededGenerator(state: 0xDEC1DE)
        var outcomes: [RejectionReason?: Int] = [:]
        let clock = ContinuousClock()
        for iteration in 0..<Self.iterations {
            let input = Self.hostile(Self.seeds[iteration % Self.seeds.count], &rng)
            var reference: Result<RunSubmission, InputRejection>!
            let elapsed = clock.measure {
                reference = Result { () throws(InputRejection) in try decoder.decode(input) }
            }
            let accelerated = Result { () throws(InputRejection) in try decoder.decode(input, fastParser: fast) }
            #expect(reference == accelerated, "paths disagree on \(String(decoding: input.prefix(200), as: UTF8.self))")
            #expect(elapsed < .seconds(1), "decoding took \(elapsed)")
            switch reference! {
            case .success: outcomes[nil, default: 0] += 1
            case let .failure(rejection): outcomes[rejection.reason, default: 0] += 1
            }
        }
        // The generator reaches decisions and several kinds of dead letter.
        #expect((outcomes[nil] ?? 0) > 0)
        #expect(
            [RejectionReason.invalidJSON, .wrongType, .invalidValue].allSatisfy { (outcomes[$0] ?? 0) > 0 },
            "\(outcomes)")
    }
}
