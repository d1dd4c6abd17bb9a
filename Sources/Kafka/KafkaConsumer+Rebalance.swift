import CRdKafka
import Logging

/// A change of the consumer's assignment, given to the rebalance hook *before* it takes effect for
/// consumption: on `assigned`, no message of the new partitions is delivered until the hook returns; on
/// `revoked`, the partitions are still owned (offsets can be committed) until it returns.
public struct RebalanceEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case assigned
        case revoked
        /// Taken away without a clean revoke (session timed out): committing them is no longer possible.
        case lost
    }

    public var kind: Kind
    public var partitions: [TopicPartition]
}

/// Called on every rebalance; the consumer waits for it before it goes on.
public typealias RebalanceHook = @Sendable (RebalanceEvent) async -> Void

extension KafkaConsumer {
    // MARK: Rebalancing (on the consumer thread, inside a poll)

    static func handleRebalance(
        rk: OpaquePointer, err: rd_kafka_resp_err_t, list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>,
        hook: RebalanceHook?, hookTimeout: Duration, state: ConsumerState, thread: KafkaThread, logger: Logger
    ) {
        let partitions = PartitionList.elements(of: list).map(\.0.topicPartition)
        // librdkafka answers no protocol (NULL) once the group handler is terminating, e.g. for the revoke a
        // close causes: the protocol last seen (or the configured one) still says how to unassign.
        if let name = rd_kafka_rebalance_protocol(rk) {
            state.cooperative = String(cString: name) == "COOPERATIVE"
        }
        let cooperative = state.cooperative
        state.generation &+= 1
        func callHook(_ kind: RebalanceEvent.Kind, _ partitions: [TopicPartition]) {
            guard let hook, !partitions.isEmpty else { return }
            runHook(
                hook, RebalanceEvent(kind: kind, partitions: partitions), timeout: hookTimeout, thread: thread,
                logger: logger)
        }
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            state.everAssigned = true
            if cooperative {
                if let error = rd_kafka_incremental_assign(rk, list) {
                    logger.error("\(KafkaError(consuming: error, "incremental assign"))")
                }
                state.assigned.formUnion(partitions)
            } else {
                let result = rd_kafka_assign(rk, list)
                if result != RD_KAFKA_RESP_ERR_NO_ERROR { logger.error("\(KafkaError(code: result, "assign"))") }
                state.assigned = Set(partitions)
            }
            logger.info("partitions assigned: \(partitions.map(\.description).joined(separator: ", "))")
            if state.closing {
                // An assignment that arrives while the consumer closes is given back at once: the hook
                // would restore state for partitions nobody will consume. Nor is their revocation announced.
                state.unannounced.formUnion(partitions)
            } else {
                callHook(.assigned, partitions)
            }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let lost = rd_kafka_assignment_lost(rk) != 0
            logger.info(
                "partitions \(lost ? "lost" : "revoked"): \(partitions.map(\.description).joined(separator: ", "))")
            callHook(lost ? .lost : .revoked, partitions.filter { !state.unannounced.contains($0) })
            state.unannounced.subtract(partitions)
            if cooperative {
                if let error = rd_kafka_incremental_unassign(rk, list) {
                    logger.error("\(KafkaError(consuming: error, "incremental unassign"))")
                }
                state.assigned.subtract(partitions)
            } else {
                rd_kafka_assign(rk, nil)
                state.assigned = []
            }
        default:
            logger.error("rebalance failed: \(String(cString: rd_kafka_err2str(err)))")
            rd_kafka_assign(rk, nil)
            state.assigned = []
        }
    }

    /// Runs the hook for one event while this thread keeps serving jobs (the hook may need the consumer),
    /// for at most `timeout`: past it the rebalance goes on without it.
    private static func runHook(
        _ hook: @escaping RebalanceHook, _ event: RebalanceEvent, timeout: Duration, thread: KafkaThread,
        logger: Logger
    ) {
        let done = LockedFlag()
        Task {
            await hook(event)
            done.set()
            thread.wakeServe()
        }
        let deadline = ContinuousClock.now + timeout
        thread.serve(until: { done.isSet || ContinuousClock.now >= deadline })
        if !done.isSet {
            logger.error(
                "the rebalance hook did not finish within \(timeout) (\(event.kind)); the rebalance goes on without it"
            )
        }
    }
}
