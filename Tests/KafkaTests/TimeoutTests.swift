import Testing

@testable import Kafka

@Suite("Timeouts as librdkafka takes them")
struct TimeoutTests {
    /// A rest of a wait shorter than a millisecond must still wait: rounded down to 0 it made the end of
    /// every timed poll a busy loop.
    @Test func millisecondsRoundUpAndStayInRange() {
        #expect(Duration.microseconds(300).milliseconds == 1)
        #expect(Duration.nanoseconds(1).milliseconds == 1)
        #expect(Duration.microseconds(100_300).milliseconds == 101)
        #expect(Duration.milliseconds(100).milliseconds == 100)
        #expect(Duration.seconds(3).milliseconds == 3000)
        #expect(Duration.zero.milliseconds == 0)
        #expect(Duration.milliseconds(-5).milliseconds == 0)
        #expect(Duration.microseconds(-300).milliseconds == 0)
        #expect(Duration.seconds(10_000_000).milliseconds == Int32.max)
    }
}
