import ArgumentParser
import DecisionCore
import DecisionEngine
import Foundation
import WireFormat

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decide JSON-lines input messages offline, without Kafka.",
        discussion: """
            Reads input messages, one JSON object per line, from each FILE in turn (standard input when none \
            is given, or for "-"). Writes one decision per distinct run to standard output and one dead letter \
            per undecidable line to standard error, both as JSON lines. A run seen again (same identity, same \
            rules) produces nothing. Blank lines are skipped. Exits 0 even when some lines are dead letters; \
            non-zero only when the rules file or an input file cannot be used.
            """
    )

    @Argument(help: "Input files of JSON lines; none or \"-\" reads standard input.")
    var files: [String] = []

    @Option(help: "A rules file, YAML or JSON (contract section 3). Defaults to the seed's values.")
    var rules: String?

    @Option(help: "Lines longer than this many bytes are dead letters with reason too_large.")
    var maxMessageBytes: Int = InputDecoder.defaultMaximumMessageBytes

    @Flag(
        help: "After the last line, print a one-line count of decisions, duplicates and dead letters to standard error."
    )
    var summary = false

    func run() throws {
        let scoringRules = try loadRules(rules)
        guard maxMessageBytes > 0 else { throw ValidationError("--max-message-bytes must be positive") }
        let inputs = files.isEmpty ? ["-"] : files
        var readers: [(name: String, reader: LineReader)] = []
        for path in inputs {
            do {
                readers.append((path, try LineReader(path: path)))
            } catch {
                throw CommandFailure("cannot read \(path): \(error)")
            }
        }
        let decider = Decider(rules: scoringRules, maximumMessageBytes: maxMessageBytes)
        var state = PartitionState(rules: scoringRules, retentionMs: nil, capacity: Int.max)
        let scratch = DecisionScratch()
        let stdout = OutputStream(fd: 1)
        let stderr = OutputStream(fd: 2)
        var counts = (decided: 0, duplicates: 0, rejected: 0)
        for (name, reader) in readers {
            var lineNumber = 0
            while let line = try reader.nextLine() {
                lineNumber += 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                let source = MessageSource(topic: name, partition: nil, offset: Int64(lineNumber), timestampMs: nil)
                let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
                let outcome = line.withUnsafeBytes { bytes in
                    decider.process(bytes, source: source, nowMs: nowMs, state: &state, scratch: scratch)
                }
                switch outcome {
                case let .decided(_, json):
                    counts.decided += 1
                    stdout.write(json)
                    stdout.write([0x0A])
                case .duplicate:
                    counts.duplicates += 1
                case .rejectedBefore:
                    // Only the service's state store, which reads dead letters back, answers this.
                    break
                case let .rejected(rejection):
                    counts.rejected += 1
                    stderr.write(DeadLetterLine.encode(rejection, file: name, line: lineNumber, value: line))
                    stderr.write([0x0A])
                }
            }
        }
        stdout.flush()
        if summary {
            stderr.write(
                Array(
                    "score: \(counts.decided) decided, \(counts.duplicates) duplicates, \(counts.rejected) dead letters\n"
                        .utf8))
        }
        stderr.flush()
    }
}
