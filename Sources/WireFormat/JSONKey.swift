/// A member name as ``JSONWriter`` writes it before the member's value, quoted, escaped and followed by
/// its colon once, when the key is made. A decision's member names are constants: spelled from their
/// `String` at every write they cost about 190 instructions each, some 60 times a decision.
public struct JSONKey: Sendable {
    /// `,"name":`; an object's first member is written without the comma.
    let bytes: [UInt8]

    public init(_ name: String) {
        var writer = JSONWriter(capacity: name.utf8.count + 8)
        writer.string(name)
        bytes = [UInt8(ascii: ",")] + writer.bytes + [UInt8(ascii: ":")]
    }
}

/// A member whose value never changes (the schema, the producer, a strategy's name), written whole, name
/// and value, when the member is made: a constant string written at every decision costs its quoting and
/// escaping check each time, some 200 instructions.
public struct JSONConstantMember: Sendable {
    /// `,"name":value`; an object's first member is written without the comma.
    let bytes: [UInt8]

    /// `value` writes the member's value, once.
    public init(_ name: String, value: (inout JSONWriter) -> Void) {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key(name)
        value(&writer)
        bytes = [UInt8(ascii: ",")] + writer.bytes.dropFirst()
    }

    public init(_ name: String, string: String) {
        self.init(name) { $0.string(string) }
    }
}
