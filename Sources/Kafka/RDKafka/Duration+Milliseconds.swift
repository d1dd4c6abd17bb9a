extension Duration {
    /// Whole milliseconds, at least 0, as librdkafka's timeouts take them.
    var milliseconds: Int32 {
        let (seconds, attoseconds) = components
        let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(0, ms))
    }
}
