import Synchronization

/// Where dead letters go, decided by the startup topic check (contract section 5): with at least as many
/// DLQ partitions as input partitions, a dead letter goes to its input's partition number, and a restore
/// reads that DLQ partition's `dlq-source-offset` headers back, so a redelivered bad message is not
/// dead-lettered again (exactly once). With fewer, dead letters are partitioned by key and at-least-once.
final class DeadLetterRouting: Sendable {
    private let bySourcePartition = Atomic<Bool>(false)

    /// Whether dead letters follow their input's partition number (and are restored from it).
    var followsSourcePartition: Bool { bySourcePartition.load(ordering: .acquiring) }

    func set(followsSourcePartition: Bool) { bySourcePartition.store(followsSourcePartition, ordering: .releasing) }
}
