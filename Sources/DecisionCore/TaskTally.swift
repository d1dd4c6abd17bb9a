/// What a run's tasks give its report (the seed's `from_executor_result`): their execution times and their
/// failures classified by message. Fed one task at a time, from ``TaskResult``s or, on the decoder's fast
/// path, straight from the message's bytes, so that no task's id or message has to become a `String`.
public struct TaskTally: Sendable {
    /// The positive execution times in milliseconds, in task order.
    public private(set) var timesMs: [Double] = []
    public private(set) var llmErrors = 0
    public private(set) var validationErrors = 0
    /// The tasks of status `error` whose message was classified; the other error tasks are API errors.
    public private(set) var classifiedErrorTasks = 0

    public init(capacity: Int = 0) {
        timesMs.reserveCapacity(capacity)
    }

    /// The tally of the domain's tasks.
    public init(_ tasks: [TaskResult], patterns: ErrorPatterns) {
        self.init(capacity: tasks.count)
        for task in tasks {
            guard var message = task.errorMessage else {
                add(status: task.status, executionTime: task.executionTime, errorMessage: nil, patterns: patterns)
                continue
            }
            message.withUTF8 {
                add(status: task.status, executionTime: task.executionTime, errorMessage: $0, patterns: patterns)
            }
        }
    }

    /// Counts one task; `errorMessage` is its message's UTF-8, `nil` when it has none.
    public mutating func add(
        status: TaskStatus, executionTime: Double, errorMessage: UnsafeBufferPointer<UInt8>?, patterns: ErrorPatterns
    ) {
        if executionTime * 1000 > 0 { timesMs.append(executionTime * 1000) }
        guard status == .error || status == .failed, let errorMessage else { return }
        switch patterns.classify(utf8: errorMessage) {
        case .llm: llmErrors += 1
        case .validation: validationErrors += 1
        case nil: return
        }
        if status == .error { classifiedErrorTasks += 1 }
    }

    /// The run's failures by cause (contract section 2.1): timeouts and API errors from the executor's
    /// counts, LLM and validation errors from the messages.
    public func errorDistribution(_ statistics: RunStatistics) -> ErrorDistribution {
        ErrorDistribution(
            timeoutErrors: statistics.timeoutTasks,
            apiErrors: max(0, statistics.errorTasks - classifiedErrorTasks),
            validationErrors: validationErrors,
            llmErrors: llmErrors)
    }

    /// The seed's 95th and 99th percentiles of the times (``percentile(_:_:)``), sorted in a copy on the
    /// stack: the tally's own array is usually shared with whoever read it, and sorting it would copy it.
    func percentiles() -> (p95: Double?, p99: Double?) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: timesMs.count) { buffer in
            var sorted = buffer
            _ = sorted.initialize(fromContentsOf: timesMs)
            sorted.sort()
            return (percentile(sorted, 0.95), percentile(sorted, 0.99))
        }
    }
}
