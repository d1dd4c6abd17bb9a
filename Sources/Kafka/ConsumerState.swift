/// Consumer state touched only on the consumer's thread.
///
/// `@unchecked Sendable`: every access happens on the consumer's ``KafkaThread`` (inside jobs or
/// librdkafka callbacks it serves), but for the consumer's `init`, which sets `cooperative` and `waker`
/// before the thread exists (starting it orders those writes before everything it runs), so there is never
/// concurrent access.
final class ConsumerState: @unchecked Sendable {
    var assigned = Set<TopicPartition>()
    /// Whether the consumer joined a group (`subscribe`) rather than assigning partitions itself.
    var subscribed = false
    /// Whether a group assignment (even an empty one) ever reached the rebalance callback.
    var everAssigned = false
    /// Bumped on every rebalance, so a batch gathered across one can be filtered.
    var generation = 0
    /// Whether the group's rebalance protocol is COOPERATIVE: the configured assignor's until librdkafka
    /// names the protocol in a rebalance.
    var cooperative = true
    var waker: QueueWaker?
    /// Set by the close, first thing on the thread: a rebalance from then on is the close's own.
    var closing = false
    /// Partitions assigned while closing, whose hook was not called (nor will their revocation's be).
    var unannounced = Set<TopicPartition>()
    var destroyed = false
}
