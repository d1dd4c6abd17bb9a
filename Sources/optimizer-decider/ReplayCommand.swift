import ArgumentParser
import DecisionService
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Backfill: re-decide a range of the input topic, then exit.",
        discussion: """
            Reads the input from --from to --until with its own consumer (manual assignment: it joins no group \
            and commits nothing, so it runs safely beside a live `run`), decides every message with the same \
            deduplication as `run` (state rebuilt from the decisions topic for the current rules), and writes \
            new decisions to the same partition numbers of the decisions topic. Replaying with unchanged rules \
            writes nothing new; with new rules, one new decision per run. The end is fixed when the replay \
            starts, and capped at the live group's committed offsets, so runs the live service has not decided \
            yet are left to it. Positions: beginning, end, an RFC 3339 time, or P:OFFSET[,P:OFFSET…] (only the \
            named partitions for --from). Progress goes to standard error: a live bar on a terminal, a line \
            every few seconds otherwise; Ctrl-C or SIGTERM stops reading, waits for the outputs in flight within \
            --stop-timeout and prints the summary so far. Of the options shared \
            with `run`, --group-id names the live group whose commits cap the end, --output-topic is where \
            decisions go, and --metrics-address and --group-instance-id have no effect on a replay.
            """
    )

    @OptionGroup var options: ServiceOptions

    @Option(help: "Where to start: beginning, end, an RFC 3339 time, or P:OFFSET,…")
    var from: String

    @Option(
        help:
            "Where to end (exclusive): end (the high watermarks when the replay starts), beginning, an RFC 3339 time, or P:OFFSET,…"
    )
    var until: String = "end"

    @Flag(help: "Decide and print the decisions it would write as JSON lines on standard output; write nothing.")
    var dryRun = false

    @Flag(
        help:
            "Write dead letters to the DLQ (by default a replay only counts them: the live run wrote them). With as many DLQ partitions as input partitions only those not on the DLQ yet are written."
    )
    var writeDeadLetters = false

    @Option(help: "Seconds between progress lines when standard error is not a terminal.")
    var progressInterval: Double = 5

    func run() async throws {
        var settings = try options.settings()
        let logger = try options.makeLogger(label: "optimizer-decider-replay")
        let fromPosition: ReplayPosition
        let untilPosition: ReplayPosition
        do {
            fromPosition = try ReplayPosition(parsing: from)
            untilPosition = try ReplayPosition(parsing: until)
        } catch {
            throw CommandFailure("\(error)")
        }
        settings.metricsAddress = "off"
        var replay = Replay(settings: settings, from: fromPosition, until: untilPosition)
        replay.dryRun = dryRun
        replay.writeDeadLetters = writeDeadLetters
        let display = ProgressDisplay(interactive: isatty(2) == 1, interval: progressInterval)
        let output = OutputStream(fd: 1)
        let budget = ServiceRunner.exitingBudget(settings.stopTimeout, logger: logger)
        let service = ReplayService(replay: replay, budget: budget, logger: logger, report: { display.show($0) }) {
            json in
            output.write(json)
            output.write([0x0A])
        }
        do {
            try await ServiceRunner.run(
                [
                    .init(
                        service: service, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup)
                ],
                budget: budget, logger: logger)
        } catch {
            output.flush()
            throw CommandFailure("\(error)")
        }
        budget.finish()
        output.flush()
        if let progress = service.result { display.finish(progress, dryRun: dryRun) }
    }
}

/// Progress on standard error: a redrawn line on a terminal, periodic plain lines otherwise.
final class ProgressDisplay: Sendable {
    private let interactive: Bool
    private let interval: Double
    private let lastLine = Mutex(ContinuousClock.now - .seconds(3600))

    init(interactive: Bool, interval: Double) {
        self.interactive = interactive
        self.interval = interval
    }

    func show(_ progress: ReplayProgress) {
        let now = ContinuousClock.now
        let minimum: Duration = interactive ? .milliseconds(100) : .milliseconds(Int64(interval * 1000))
        let due = lastLine.withLock { last in
            guard last.duration(to: now) >= minimum else { return false }
            last = now
            return true
        }
        guard due else { return }
        let text = Self.line(progress, bar: interactive)
        FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + text : text + "\n").utf8))
    }

    func finish(_ progress: ReplayProgress, dryRun: Bool) {
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let verb = dryRun ? "would write" : "wrote"
        var summary =
            "replay \(progress.interrupted ? "interrupted" : "finished"): \(progress.done) of \(progress.total) records in \(String(format: "%.1f", progress.elapsedSeconds)) s; \(verb) \(progress.decided) decisions, skipped \(progress.duplicates) duplicates, \(progress.deadLetters) dead letters"
        if progress.skipped > 0 { summary += ", \(progress.skipped) records outside the time range" }
        FileHandle.standardError.write(Data((summary + "\n").utf8))
    }

    static func line(_ progress: ReplayProgress, bar: Bool) -> String {
        let total = max(1, progress.total)
        let fraction = Double(progress.done) / Double(total)
        let rate = progress.elapsedSeconds > 0 ? Double(progress.done) / progress.elapsedSeconds : 0
        let eta = rate > 0 ? Double(progress.total - progress.done) / rate : 0
        let counts =
            "\(progress.done)/\(progress.total) records, \(Int(rate)) /s, ETA \(Int(eta)) s, decided \(progress.decided), duplicates \(progress.duplicates), dead letters \(progress.deadLetters), \(partitionSummary(progress))"
        guard bar else { return "replay: " + counts }
        let width = 24
        let filled = Int(fraction * Double(width))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            + "] \(Int(fraction * 100))% " + counts
    }

    /// How many partitions are done and which is furthest behind: one short phrase however many there are.
    static func partitionSummary(_ progress: ReplayProgress) -> String {
        let working = progress.partitions.filter { $0.total > 0 }
        let done = working.filter { $0.done >= $0.total }.count
        guard
            let slowest = working.filter({ $0.done < $0.total }).min(by: {
                Double($0.done) / Double($0.total) < Double($1.done) / Double($1.total)
            })
        else {
            return "partitions \(done)/\(working.count) done"
        }
        return
            "partitions \(done)/\(working.count) done, slowest p\(slowest.partition) at \(Int(Double(slowest.done) / Double(slowest.total) * 100))%"
    }
}
