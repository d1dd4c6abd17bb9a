import DecisionCore

/// One input partition's state as of a decisions-topic offset: everything the state holds was read or
/// decided from the records before `decisionsOffset` (and, when dead letters follow their input's
/// partition, before `deadLettersOffset` of the DLQ partition), so a restore loads it and reads only the
/// records from those offsets on. The bytes (``encoded()``): an 8-byte magic, the body's length, the body,
/// and the body's CRC-32C; ``init(decoding:into:)`` trusts nothing it has not checked.
public struct PartitionCheckpoint: Sendable, Equatable {
    /// What a checkpoint must share with the restore that loads it: the same rules, the same state
    /// settings, the same topics and partition.
    public struct Identity: Sendable, Equatable, CustomStringConvertible {
        public var rulesFingerprint: String
        /// ``PartitionState/settingsDescription``.
        public var stateSettings: String
        public var inputTopic: String
        public var partition: Int32
        public var decisionsTopic: String
        /// The DLQ whose partition of the same number holds this partition's dead letters; `nil` when dead
        /// letters are routed by key (not read back).
        public var deadLetterTopic: String?

        public init(
            rulesFingerprint: String, stateSettings: String, inputTopic: String, partition: Int32,
            decisionsTopic: String, deadLetterTopic: String?
        ) {
            self.rulesFingerprint = rulesFingerprint
            self.stateSettings = stateSettings
            self.inputTopic = inputTopic
            self.partition = partition
            self.decisionsTopic = decisionsTopic
            self.deadLetterTopic = deadLetterTopic
        }

        public var description: String {
            "rules \(rulesFingerprint), state \(stateSettings), \(inputTopic) partition \(partition) → \(decisionsTopic)"
                + (deadLetterTopic.map { " and \($0)" } ?? "")
        }

        /// How `self` (a checkpoint's) differs from `expected`, in words; `nil` when it does not.
        public func mismatch(against expected: Identity) -> String? {
            if rulesFingerprint != expected.rulesFingerprint {
                return "written for rules \(rulesFingerprint), not \(expected.rulesFingerprint)"
            }
            if stateSettings != expected.stateSettings {
                return "written with state settings \(stateSettings), not \(expected.stateSettings)"
            }
            guard self == expected else { return "written for \(description), not \(expected.description)" }
            return nil
        }
    }

    public var identity: Identity
    /// The first decisions-topic offset the state has not seen.
    public var decisionsOffset: Int64
    /// The first DLQ offset the state has not seen, when ``Identity/deadLetterTopic`` is set.
    public var deadLettersOffset: Int64?
    public var state: PartitionState

    public init(identity: Identity, decisionsOffset: Int64, deadLettersOffset: Int64?, state: PartitionState) {
        self.identity = identity
        self.decisionsOffset = decisionsOffset
        self.deadLettersOffset = deadLettersOffset
        self.state = state
    }

    static let magic: [UInt8] = Array("ODSTATE1".utf8)
    /// Magic and body length before the body, checksum after it.
    static let framingBytes = 8 + 8 + 4

    public func encoded() -> [UInt8] {
        var body = StateWriter(reservingCapacity: 64 + state.decisionCount * 24 + state.workflowCount * 200)
        body.write(identity.rulesFingerprint)
        body.write(identity.stateSettings)
        body.write(identity.inputTopic)
        body.write(Int64(identity.partition))
        body.write(identity.decisionsTopic)
        body.write(identity.deadLetterTopic)
        body.write(decisionsOffset)
        body.write(deadLettersOffset != nil)
        body.write(deadLettersOffset ?? 0)
        state.write(to: &body)
        var file = StateWriter(reservingCapacity: body.bytes.count + Self.framingBytes)
        file.write(Self.magic)
        file.write(body.bytes.count)
        file.write(body.bytes)
        withUnsafeBytes(of: CRC32C.checksum(body.bytes).littleEndian) { file.write($0) }
        return file.bytes
    }

    /// Reads a checkpoint's bytes into a state sized like `empty`; throws what is wrong with them.
    public init(decoding bytes: [UInt8], into empty: PartitionState) throws(CheckpointProblem) {
        guard bytes.count >= Self.framingBytes else {
            throw .truncated("\(bytes.count) bytes, shorter than a checkpoint's framing")
        }
        guard bytes.prefix(8).elementsEqual(Self.magic) else { throw .corrupted("it does not start like a checkpoint") }
        var reader = StateReader(bytes, from: 8)
        let length = (try? reader.readInt()) ?? -1
        guard length >= 0, length <= Int.max / 2 else { throw .corrupted("its length field (\(length)) is impossible") }
        let expected = Self.framingBytes + length
        guard bytes.count >= expected else { throw .truncated("\(bytes.count) of its \(expected) bytes") }
        guard bytes.count == expected else { throw .corrupted("\(bytes.count - expected) bytes after its end") }
        let body = bytes[16..<16 + length]
        let stored = bytes.withUnsafeBytes {
            UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 16 + length, as: UInt32.self))
        }
        guard CRC32C.checksum(body) == stored else { throw .corrupted("its checksum does not match its bytes") }
        do {
            identity = Identity(
                rulesFingerprint: try reader.readString(), stateSettings: try reader.readString(),
                inputTopic: try reader.readString(), partition: Int32(truncatingIfNeeded: try reader.readInt64()),
                decisionsTopic: try reader.readString(), deadLetterTopic: try reader.readOptionalString())
            decisionsOffset = try reader.readInt64()
            let hasDeadLetters = try reader.readBool()
            let deadLetters = try reader.readInt64()
            deadLettersOffset = hasDeadLetters ? deadLetters : nil
            // The identity is checked by the caller; the state is read only into the settings it names.
            guard identity.stateSettings == empty.settingsDescription else {
                throw CheckpointProblem.foreign(
                    "written with state settings \(identity.stateSettings), not \(empty.settingsDescription)")
            }
            state = try PartitionState(reading: &reader, into: empty)
            guard reader.remaining == 4 else {
                throw StateReadError("\(reader.remaining - 4) bytes left after the state")
            }
        } catch let problem as CheckpointProblem {
            throw problem
        } catch {
            throw .corrupted("its state cannot be read: \(error)")
        }
    }
}

/// Why a checkpoint is not used: each makes the restore read the whole partition instead.
public enum CheckpointProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// No checkpoint for the partition.
    case missing
    /// Shorter than its framing says: a write that did not finish.
    case truncated(String)
    /// Its bytes are not a checkpoint's, or its checksum does not match.
    case corrupted(String)
    /// Written for other rules, state settings, topics or partition.
    case foreign(String)
    /// Its offsets are outside what the topic holds now (the topic was recreated or has dropped records).
    case outOfRange(String)

    public var description: String {
        switch self {
        case .missing: "missing"
        case let .truncated(detail): "truncated: \(detail)"
        case let .corrupted(detail): "corrupted: \(detail)"
        case let .foreign(detail): "foreign: \(detail)"
        case let .outOfRange(detail): "out of range: \(detail)"
        }
    }
}
