/// The byte form of kept state, for checkpoints: fixed-width little-endian integers, doubles by their
/// bit pattern, strings as a length and their UTF-8. Only this module and the engine write and read it;
/// a checkpoint's header and checksum (in the engine) say whether the bytes can be trusted at all.
public struct StateWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(reservingCapacity capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public mutating func write(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(_ value: Int64) { write(UInt64(bitPattern: value)) }
    public mutating func write(_ value: Int) { write(Int64(value)) }
    public mutating func write(_ value: Double) { write(value.bitPattern) }
    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func write(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            write(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    public mutating func write(_ value: String?) {
        write(value != nil)
        if let value { write(value) }
    }

    public mutating func write(_ raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }
}

/// Why kept state could not be read back from its bytes.
public struct StateReadError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reads what ``StateWriter`` wrote, in the same order; every read checks the bytes left, and every
/// count is checked against them before anything is allocated for it.
public struct StateReader {
    private let bytes: [UInt8]
    public private(set) var position: Int

    public init(_ bytes: [UInt8], from position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    public var remaining: Int { bytes.count - position }

    public mutating func readUInt64() throws(StateReadError) -> UInt64 {
        guard remaining >= 8 else { throw StateReadError("ends inside a number at byte \(position)") }
        let value = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: UInt64.self) }
        position += 8
        return UInt64(littleEndian: value)
    }

    public mutating func readInt64() throws(StateReadError) -> Int64 { Int64(bitPattern: try readUInt64()) }

    public mutating func readInt() throws(StateReadError) -> Int {
        let value = try readInt64()
        guard let int = Int(exactly: value) else { throw StateReadError("number \(value) out of range") }
        return int
    }

    public mutating func readDouble() throws(StateReadError) -> Double { Double(bitPattern: try readUInt64()) }

    public mutating func readBool() throws(StateReadError) -> Bool {
        guard remaining >= 1 else { throw StateReadError("ends inside a flag at byte \(position)") }
        defer { position += 1 }
        switch bytes[position] {
        case 0: return false
        case 1: return true
        default: throw StateReadError("flag \(bytes[position]) at byte \(position) is neither 0 nor 1")
        }
    }

    /// A count of items of at least `minimumBytes` each, no more than the bytes left can hold.
    public mutating func readCount(minimumBytes: Int) throws(StateReadError) -> Int {
        let count = try readInt()
        guard count >= 0, count <= remaining / max(1, minimumBytes) else {
            throw StateReadError("count \(count) at byte \(position - 8) is more than the bytes left can hold")
        }
        return count
    }

    public mutating func readString() throws(StateReadError) -> String {
        let length = try readCount(minimumBytes: 1)
        defer { position += length }
        return String(decoding: bytes[position..<position + length], as: UTF8.self)
    }

    public mutating func readOptionalString() throws(StateReadError) -> String? {
        try readBool() ? try readString() : nil
    }

    public mutating func readBytes(_ count: Int) throws(StateReadError) -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw StateReadError("ends after \(remaining) of \(count) bytes") }
        defer { position += count }
        return bytes[position..<position + count]
    }
}
