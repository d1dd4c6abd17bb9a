import CRdKafka
import Foundation
import Logging

/// Kafka protocol request types, for fault injection.
public enum KafkaAPI: Int16, Sendable, CaseIterable {
    case produce = 0
    case fetch = 1
    case listOffsets = 2
    case metadata = 3
    case offsetCommit = 8
    case offsetFetch = 9
    case findCoordinator = 10
    case joinGroup = 11
    case heartbeat = 12
    case leaveGroup = 13
    case syncGroup = 14
    case initProducerID = 22
    case addPartitionsToTxn = 24
    case addOffsetsToTxn = 25
    case endTxn = 26
    case txnOffsetCommit = 28
}

/// Kafka protocol error codes worth injecting.
public enum KafkaProtocolError: Int32, Sendable, CaseIterable {
    case leaderNotAvailable = 5
    case notLeaderForPartition = 6
    case requestTimedOut = 7
    case brokerNotAvailable = 8
    case networkException = 13
    case coordinatorLoadInProgress = 14
    case coordinatorNotAvailable = 15
    case notCoordinator = 16
    case notEnoughReplicas = 19
    case illegalGeneration = 22
    case unknownMemberID = 25
    case rebalanceInProgress = 27
}

/// librdkafka's mock cluster (`rdkafka_mock.h`): real Kafka brokers speaking the wire protocol, in this
/// process, with consumer groups, idempotence, transactions and fault injection. Measured limits of
/// librdkafka 2.0.2's mock: about 5 MiB kept per partition, no timestamp look-ups, no transactional
/// offsets stored, no aborted records filtered.
public final class MockCluster: Sendable {
    private let host: KafkaHandle
    private let cluster: KafkaHandle
    private let opaque: UnsafeMutableRawPointer.Sendable
    private let closed = LockedFlag()
    public let bootstrapServers: String
    public let brokerCount: Int

    public init(brokers: Int = 1, logger: Logger = Logger(label: "mock-cluster")) throws(KafkaError) {
        guard brokers >= 1 else { throw KafkaError(.configuration, "a mock cluster needs at least one broker") }
        // The mock cluster lives inside a client handle; a producer that never produces hosts it.
        var configuration = KafkaConfiguration(bootstrapServers: "")
        configuration["bootstrap.servers"] = nil
        configuration["client.id"] = "mock-cluster-host"
        let (rk, opaque) = try makeClient(
            type: RD_KAFKA_PRODUCER, configuration: configuration, context: ClientContext(logger: logger, secrets: []))
        guard let mock = rd_kafka_mock_cluster_new(rk, Int32(brokers)) else {
            rd_kafka_destroy(rk)
            ClientContext.release(opaque)
            throw KafkaError(.failed, "cannot start the mock cluster")
        }
        host = KafkaHandle(pointer: rk)
        cluster = KafkaHandle(pointer: mock)
        self.opaque = .init(opaque)
        brokerCount = brokers
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(mock))
    }

    deinit { shutdown() }

    /// Stops the brokers. Clients still connected see them go away.
    public func shutdown() {
        guard !closed.isSet else { return }
        closed.set()
        rd_kafka_mock_cluster_destroy(cluster.pointer)
        rd_kafka_destroy(host.pointer)
        ClientContext.release(opaque.pointer)
    }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(
            cluster.pointer, name, Int32(partitions), Int32(min(replicationFactor, brokerCount)))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "create topic \(name)") }
    }

    /// Broker ids run from 1 to `brokers`.
    public func setBrokerDown(_ broker: Int32) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_down(cluster.pointer, broker), "take broker \(broker) down")
    }

    public func setBrokerUp(_ broker: Int32) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_up(cluster.pointer, broker), "bring broker \(broker) up")
    }

    /// Delays every response of `broker` by `milliseconds`.
    public func setRoundTripTime(_ broker: Int32, milliseconds: Int) throws(KafkaError) {
        try check(
            rd_kafka_mock_broker_set_rtt(cluster.pointer, broker, Int32(milliseconds)),
            "set round-trip time of broker \(broker)")
    }

    /// The next requests of type `api`, on any broker, fail with `errors` in order.
    public func pushRequestErrors(_ api: KafkaAPI, _ errors: [KafkaProtocolError]) {
        var codes = errors.map { rd_kafka_resp_err_t(rawValue: $0.rawValue) }
        rd_kafka_mock_push_request_errors_array(cluster.pointer, api.rawValue, codes.count, &codes)
    }

    /// Makes broker `broker` answer its next `api` request after `delay`, with `error` (nil: no error).
    public func delayNextRequest(
        _ api: KafkaAPI, on broker: Int32, by delay: Duration, error: KafkaProtocolError? = nil
    ) throws(KafkaError) {
        try check(
            optimizer_decider_mock_push_request_error_rtt(
                cluster.pointer, broker, api.rawValue, rd_kafka_resp_err_t(rawValue: error?.rawValue ?? 0),
                Int32(delay.milliseconds)),
            "delay the next \(api) request on broker \(broker)")
    }

    /// Request errors or delays pushed onto broker `broker` for `api` and not yet consumed by a request.
    public func pendingRequestErrors(_ api: KafkaAPI, on broker: Int32) throws(KafkaError) -> Int {
        var count = 0
        try check(
            rd_kafka_mock_broker_error_stack_cnt(cluster.pointer, broker, api.rawValue, &count),
            "count pending \(api) errors on broker \(broker)")
        return count
    }

    public func clearRequestErrors(_ api: KafkaAPI) {
        rd_kafka_mock_clear_request_errors(cluster.pointer, api.rawValue)
    }

    /// Moves a group's (or transactional id's) coordinator to `broker`.
    public func setCoordinator(group: String, broker: Int32) throws(KafkaError) {
        try check(
            rd_kafka_mock_coordinator_set(cluster.pointer, "group", group, broker), "move coordinator of \(group)")
    }

    public func setPartitionLeader(_ topic: String, _ partition: Int32, broker: Int32) throws(KafkaError) {
        try check(
            rd_kafka_mock_partition_set_leader(cluster.pointer, topic, partition, broker),
            "move leader of \(topic)[\(partition)]")
    }

    private func check(_ err: rd_kafka_resp_err_t, _ what: String) throws(KafkaError) {
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, what) }
    }
}
