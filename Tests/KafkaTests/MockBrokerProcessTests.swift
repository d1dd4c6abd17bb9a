import Foundation
import Kafka
import Testing

/// The built `optimizer-decider` beside this test bundle.
func executableURL() throws -> URL {
    let url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
        "optimizer-decider")
    guard FileManager.default.isExecutableFile(atPath: url.path) else {
        throw KafkaError(.failed, "\(url.path) is missing: build the package before testing (scripts/test does)")
    }
    return url
}

/// A `mock-broker` child process, stopped with SIGTERM.
final class MockBrokerProcess {
    let process = Process()
    let bootstrapServers: String

    init(arguments: [String] = []) throws {
        process.executableURL = try executableURL()
        process.arguments = ["mock-broker"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line += byte
        }
        bootstrapServers = String(decoding: line, as: UTF8.self)
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

func runTool(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("mock-broker process with independent clients", .timeLimit(.minutes(2)))
struct MockBrokerProcessTests {
    @Test func kcatReadsWhatTheSwiftProducerWrote() async throws {
        let broker = try MockBrokerProcess(arguments: ["--partitions", "2"])
        defer { broker.stop() }
        #expect(broker.bootstrapServers.hasPrefix("127.0.0.1:"))
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration(bootstrapServers: broker.bootstrapServers), logger: testLogger)
        let sent = (0..<10).map {
            ProducerRecord(
                topic: "executor-results", partition: Int32($0 % 2), key: Array("wf-\($0)".utf8),
                value: Array("{\"n\":\($0)}".utf8), headers: [KafkaHeader("schema", "test/v1")])
        }
        try await producer.send(sent)
        await producer.close()
        let result = try runTool(
            "/usr/bin/kcat",
            [
                "-C", "-b", broker.bootstrapServers, "-t", "executor-results", "-o", "beginning", "-e", "-q", "-f",
                "%p|%k|%s|%h\n",
            ])
        #expect(result.status == 0)
        let lines = Set(result.output.split(separator: "\n").map(String.init))
        #expect(lines == Set((0..<10).map { "\($0 % 2)|wf-\($0)|{\"n\":\($0)}|schema=test/v1" }))
    }

    @Test func createsTheContractTopicsWithEqualPartitions() throws {
        let broker = try MockBrokerProcess(arguments: ["--partitions", "4"])
        defer { broker.stop() }
        let result = try runTool("/usr/bin/kcat", ["-L", "-b", broker.bootstrapServers])
        for topic in ["executor-results", "optimizer-decisions", "executor-results.dlq"] {
            #expect(result.output.contains("topic \"\(topic)\" with 4 partitions"))
        }
    }
}
