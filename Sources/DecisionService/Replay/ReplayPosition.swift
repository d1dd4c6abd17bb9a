import WireFormat

/// Where a replay starts or ends (contract section 6).
public enum ReplayPosition: Sendable, Equatable, CustomStringConvertible {
    case beginning
    case end
    /// Milliseconds since the epoch.
    case time(Int64)
    /// Explicit offsets; partitions not named are not replayed.
    case offsets([Int32: Int64])

    /// Parses `beginning`, `end`, an RFC 3339 time, or `P:OFFSET,…`.
    public init(parsing text: String) throws {
        switch text {
        case "beginning": self = .beginning
        case "end": self = .end
        default:
            if let ms = RFC3339.millisecondsSinceEpoch(text) {
                self = .time(ms)
                return
            }
            var offsets: [Int32: Int64] = [:]
            for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, let partition = Int32(parts[0]), partition >= 0, let offset = Int64(parts[1]),
                    offset >= 0
                else {
                    throw ServiceError(
                        "position \"\(text)\" is not beginning, end, an RFC 3339 time or P:OFFSET[,P:OFFSET…]")
                }
                guard offsets.updateValue(offset, forKey: partition) == nil else {
                    throw ServiceError("position \"\(text)\" names partition \(partition) twice")
                }
            }
            self = .offsets(offsets)
        }
    }

    public var description: String {
        switch self {
        case .beginning: "beginning"
        case .end: "end"
        case let .time(ms): RFC3339.format(millisecondsSinceEpoch: ms)
        case let .offsets(offsets):
            offsets.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
        }
    }
}
