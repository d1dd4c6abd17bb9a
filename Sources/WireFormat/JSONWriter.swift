import DecisionCore

/// Appends JSON text to a byte buffer that callers reuse across messages.
///
/// The buffer is its own allocation, written through a pointer after one capacity check per piece: an
/// `Array` append checks uniqueness and capacity per call, which cost more than the JSON itself.
/// Noncopyable, so that exactly one writer owns the allocation and frees it.
public struct JSONWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int
    private var needsComma = false

    public init(capacity: Int = 2048) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// A copy of what has been written.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    public mutating func reset() {
        count = 0
        needsComma = false
    }

    /// Room for `extra` more bytes; grows by doubling, so appends stay amortised O(1).
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(toAtLeast: count + extra) }
    }

    private mutating func grow(toAtLeast needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    private mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress else { return }
        reserve(bytes.count)
        UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) { append(UnsafeRawBufferPointer(bytes)) }

    @inline(__always)
    private mutating func separate() {
        if needsComma { append(UInt8(ascii: ",")) }
        needsComma = true
    }

    private mutating func raw(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public mutating func key(_ name: StaticString) {
        separate()
        append(UInt8(ascii: "\""))
        raw(name)
        raw("\":")
        needsComma = false
    }

    public mutating func key(_ key: JSONKey) {
        appendMember(key.bytes)
        needsComma = false
    }

    /// A member written whole (``JSONConstantMember``).
    public mutating func member(_ member: JSONConstantMember) {
        appendMember(member.bytes)
        needsComma = true
    }

    /// A member's bytes that begin with their comma, written without it at an object's start.
    private mutating func appendMember(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { written in
            append(needsComma ? written : UnsafeRawBufferPointer(rebasing: written.dropFirst()))
        }
    }

    public mutating func key(_ name: String) {
        separate()
        appendString(name)
        append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func beginObject() {
        separate()
        append(UInt8(ascii: "{"))
        needsComma = false
    }
    public mutating func endObject() {
        append(UInt8(ascii: "}"))
        needsComma = true
    }
    public mutating func beginArray() {
        separate()
        append(UInt8(ascii: "["))
        needsComma = false
    }
    public mutating func endArray() {
        append(UInt8(ascii: "]"))
        needsComma = true
    }

    public mutating func null() {
        separate()
        raw("null")
    }
    public mutating func bool(_ value: Bool) {
        separate()
        value ? raw("true") : raw("false")
    }
    public mutating func string(_ value: String) {
        separate()
        appendString(value)
    }
    public mutating func string(_ value: String?) { if let value { string(value) } else { null() } }
    /// A string given as its UTF-8 bytes (a sentence written on the stack), escaped as needed.
    public mutating func string(utf8 value: UnsafeBufferPointer<UInt8>) {
        separate()
        appendQuoted(value)
    }

    public mutating func integer<Integer: BinaryInteger>(_ value: Integer) {
        separate()
        guard let magnitude = UInt64(exactly: value.magnitude) else {
            return appendUnescaped(String(value))
        }
        if value < 0 { append(UInt8(ascii: "-")) }
        appendDigits(magnitude)
    }

    /// Decimal digits straight into the buffer, counted first and then written once, backwards.
    private mutating func appendDigits(_ value: UInt64) {
        var length = 1
        var rest = value / 10
        while rest > 0 {
            length += 1
            rest /= 10
        }
        reserve(length)
        var cursor = base + count + length
        rest = value
        repeat {
            cursor -= 1
            cursor.pointee = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        } while rest > 0
        count += length
    }

    public mutating func integer<Integer: BinaryInteger>(_ value: Integer?) {
        if let value { integer(value) } else { null() }
    }

    /// Finite doubles in the shortest form that reads back to the same value (`0.1`, `5000.0`, `1e-05`).
    /// JSON cannot spell infinities or NaN; decoding rejects them, and should one arrive here anyway it is
    /// written as `null` rather than as invalid JSON.
    public mutating func number(_ value: Double) {
        guard value.isFinite else { return null() }
        separate()
        reserve(ShortestDecimal.maximumLength)
        count += ShortestDecimal.write(value, at: base + count)
    }

    public mutating func number(_ value: Double?) {
        if let value { number(value) } else { null() }
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case let .bool(flag): bool(flag)
        case let .integer(number): integer(number)
        case let .double(number): self.number(number)
        case let .string(text): string(text)
        case let .array(elements):
            beginArray()
            for element in elements { self.value(element) }
            endArray()
        case let .object(object): self.object(object)
        }
    }

    /// An object with repeated keys written once, with the value that lookups see (the last).
    public mutating func object(_ object: JSONObject) {
        beginObject()
        for member in object.uniqueMembers {
            key(member.key)
            value(member.value)
        }
        endObject()
    }

    /// Text that needs no escaping (a number's digits), as it is.
    private mutating func appendUnescaped(_ text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }

    private mutating func appendString(_ text: String) {
        // Native strings lend their UTF-8 in place, small ones from the stack (`withUTF8` is inlined;
        // the UTF-8 view's generic `withContiguousStorageIfAvailable` was a hundred instructions a call).
        var text = text
        text.withUTF8 { appendQuoted($0) }
    }

    private mutating func appendQuoted(_ utf8: UnsafeBufferPointer<UInt8>) {
        append(UInt8(ascii: "\""))
        appendEscaping(utf8)
        append(UInt8(ascii: "\""))
    }

    private mutating func appendEscaping(_ utf8: UnsafeBufferPointer<UInt8>) {
        // Most strings need no escaping: found eight bytes at a time, they are copied in one go.
        guard Self.needsEscaping(UnsafeRawBufferPointer(utf8)) else { return append(utf8) }
        // Copy runs that need no escaping in one go; escape the rest byte by byte.
        var runStart = 0
        for index in 0..<utf8.count {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            append(UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
            appendEscaped(byte)
            runStart = index + 1
        }
        append(UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
    }

    /// Whether any byte is below 0x20, a quote or a backslash; word at a time with the classic
    /// "has a zero byte" / "has a byte less than n" bit tricks, which are exact about existence.
    static func needsEscaping(_ utf8: UnsafeRawBufferPointer) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ word: UInt64) -> Bool { (word &- ones) & ~word & highs != 0 }
        var index = 0
        while index + 8 <= utf8.count {
            let word = utf8.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            if (word &- ones &* 0x20) & ~word & highs != 0 || hasZeroByte(word ^ (ones &* 0x22))
                || hasZeroByte(word ^ (ones &* 0x5C))
            {
                return true
            }
            index += 8
        }
        while index < utf8.count {
            let byte = utf8[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return true }
            index += 1
        }
        return false
    }

    private mutating func appendEscaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): raw("\\\"")
        case UInt8(ascii: "\\"): raw("\\\\")
        case 0x0A: raw("\\n")
        case 0x0D: raw("\\r")
        case 0x09: raw("\\t")
        default:
            let hex: StaticString = "0123456789abcdef"
            raw("\\u00")
            append(hex.utf8Start[Int(byte >> 4)])
            append(hex.utf8Start[Int(byte & 0xF)])
        }
    }
}
