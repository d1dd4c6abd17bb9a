import DecisionCore
import Foundation
import Kafka
import Logging
import Testing
import WireFormat
@testable import DecisionService

/// A fault injected into the mock cluster while a steady stream flows through the service.
enum Fault: String, CaseIterable, Sendable {
    case brokerDownAndUp, produceErrors, fetchErrors, offsetCommitErrors, joinGroupErrors, heartbeatErrors, coordinatorMoved, highRoundTripTime

    func inject(_ cluster: MockCluster, group: String) async throws {
        switch self {
        case .brokerDownAndUp:
            try cluster.setBrokerDown(2)
            try await Task.sleep(for: .seconds(2))
            try cluster.setBrokerUp(2)
        case .produceErrors:
            cluster.pushRequestErrors(.produce, [.notLeaderForPartition, .requestTimedOut, .notEnoughReplicas, .leaderNotAvailable, .notLeaderForPartition])
        case .fetchErrors:
            cluster.pushRequestErrors(.fetch, [.notLeaderForPartition, .leaderNotAvailable, .networkException, .requestTimedOut])
        case .offsetCommitErrors:
            cluster.pushRequestErrors(.offsetCommit, [.notCoordinator, .coordinatorNotAvailable, .coordinatorLoadInProgress, .requestTimedOut])
        case .joinGroupErrors:
            cluster.pushRequestErrors(.heartbeat, [.rebalanceInProgress])
            cluster.pushRequestErrors(.joinGroup, [.coordinatorLoadInProgress, .notCoordinator, .coordinatorNotAvailable])
        case .heartbeatErrors:
            cluster.pushRequestErrors(.heartbeat, [.rebalanceInProgress, .notCoordinator, .rebalanceInProgress])
        case .coordinatorMoved:
            try cluster.setCoordinator(group: group, broker: 3)
        case .highRoundTripTime:
            for broker in Int32(1)...3 { try cluster.setRoundTripTime(broker, milliseconds: 400) }
            try await Task.sleep(for: .seconds(2))
            for broker in Int32(1)...3 { try cluster.setRoundTripTime(broker, milliseconds: 0) }
        }
    }
}

func reportMessage(workflow: String, run: String, successful: Int = 9) -> [UInt8] {
    Array(#"{"workflow_id":"\#(workflow)","run_id":"\#(run)","total_tests":10,"successful_tests":\#(successful),"failed_tests":\#(10 - successful),"success_rate":\#(Double(successful) / 10),"avg_response_time_ms":1200,"total_tokens":100,"avg_tokens_per_request":10,"total_cost":0.1,"cost_per_request":0.01}"#.utf8)
}

@Suite("Faults during a steady stream", .serialized, .timeLimit(.minutes(2)))
struct FaultInjectionTests {
    @Test(arguments: Fault.allCases)
    func exactlyOneDecisionPerValidRunAndEveryBadOneInTheDLQ(_ fault: Fault) async throws {
        var logger = Logger(label: "fault-\(fault.rawValue)")
        logger.logLevel = .critical
        let cluster = try MockCluster(brokers: 3, logger: logger)
        for topic in ["executor-results", "optimizer-decisions", "executor-results.dlq"] {
            try cluster.createTopic(topic, partitions: 3, replicationFactor: 3)
        }
        var settings = ServiceSettings(bootstrapServers: cluster.bootstrapServers)
        settings.groupID = "fault-\(fault.rawValue)"
        for (key, value) in [("session.timeout.ms", "6000"), ("heartbeat.interval.ms", "500"), ("topic.metadata.refresh.interval.ms", "1000")] {
            settings.kafka[key] = value
        }
        settings.batchSize = 50
        let pipeline = DecisionPipeline(settings: settings, logger: logger)
        let service = Task { try await pipeline.run() }

        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers), logger: logger)
        var valid = Set<String>()
        var bad = 0
        var sent = 0
        let injector = Task {
            try await Task.sleep(for: .milliseconds(800))
            try await fault.inject(cluster, group: settings.groupID)
        }
        for index in 0..<240 {
            let workflow = "wf-\(index % 6)"
            var batch: [ProducerRecord] = []
            if index % 20 == 7 {
                batch.append(ProducerRecord(topic: "executor-results", key: Array(workflow.utf8), value: Array("{\"broken\":".utf8)))
                bad += 1
            } else {
                let record = ProducerRecord(topic: "executor-results", key: Array(workflow.utf8), value: reportMessage(workflow: workflow, run: "run-\(index)"))
                batch.append(record)
                if index % 5 == 0 { batch.append(record) }  // an executor retry
                valid.insert("\(workflow)/run-\(index)")
            }
            try await producer.send(batch)
            sent += batch.count
            try await Task.sleep(for: .milliseconds(12))
        }
        try await injector.value
        await producer.close()

        // Everything consumed (duplicates included), then a clean stop.
        let deadline = ContinuousClock.now + .seconds(60)
        while pipeline.progress.consumed < sent, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        pipeline.requestStop()
        try await service.value

        let reader = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers), groupID: "reader", logger: logger)
        var decisions: [String: Int] = [:]
        var deadLetters = Set<String>()
        for topic in ["optimizer-decisions", "executor-results.dlq"] {
            for partition in Int32(0)..<3 {
                let tp = TopicPartition(topic, partition)
                let marks = try await reader.watermarks(tp)
                guard marks.high > marks.low else { continue }
                try await reader.assign([TopicPartitionOffset(tp, offset: marks.low)])
                var seen = marks.low
                while seen < marks.high {
                    for message in try await reader.nextBatch(timeout: .milliseconds(200)) {
                        seen = message.offset + 1
                        if topic == "optimizer-decisions", case let .object(object)? = try? JSONParser.parse(message.value),
                           case let .string(workflow)? = object["workflow_id"], case let .string(run)? = object["run_id"] {
                            decisions["\(workflow)/\(run)", default: 0] += 1
                        } else if topic == "executor-results.dlq" {
                            let headers = Dictionary(message.headers.map { ($0.name, String(decoding: $0.value ?? [], as: UTF8.self)) }, uniquingKeysWith: { $1 })
                            deadLetters.insert("\(headers["dlq-source-partition"] ?? "?"):\(headers["dlq-source-offset"] ?? "?")")
                        }
                    }
                }
            }
        }
        await reader.close()
        #expect(Set(decisions.keys) == valid, "\(fault): missing \(valid.subtracting(decisions.keys).sorted().prefix(5))")
        #expect(decisions.values.allSatisfy { $0 == 1 }, "\(fault): doubled \(decisions.filter { $0.value > 1 }.keys.sorted().prefix(5))")
        #expect(deadLetters.count == bad, "\(fault): \(deadLetters.count) of \(bad) dead letters")
    }
}
