import DecisionCore

/// Reads the members of one JSON object by the contract's rules: a missing required member is
/// `missing_field`, a member of the wrong JSON type (null included) is `wrong_type`, and an optional
/// member may be absent or null. Every error names the member by its full path.
struct FieldReader<Node: JSONNode> {
    /// An object node.
    let object: Node
    /// The object's own path, `""` for the message itself; for an array element, the array's path.
    let path: String
    /// For an array element, its index (the path is then built only when an error needs it).
    let index: Int?

    init(_ object: Node, path: String = "", index: Int? = nil) {
        self.object = object
        self.path = path
        self.index = index
    }

    var fullPath: String { index.map { "\(path)[\($0)]" } ?? path }

    func fieldPath(_ key: String) -> String {
        if index == nil && path.isEmpty { return key }
        return "\(fullPath).\(key)"
    }

    func has(_ key: String) -> Bool { object.member(key) != nil }

    private func required(_ key: String) throws(InputRejection) -> Node {
        guard let value = object.member(key) else {
            throw InputRejection(.missingField, field: fieldPath(key), "\(fieldPath(key)) is required")
        }
        return value
    }

    /// The member's value, or `nil` when it is absent or null.
    private func optional(_ key: String) -> Node? {
        guard let value = object.member(key), value.kind != .null else { return nil }
        return value
    }

    func wrongType(_ key: String, _ expected: String, _ value: Node) -> InputRejection {
        InputRejection(
            .wrongType, field: fieldPath(key), "\(fieldPath(key)) must be \(expected), got \(value.typeName)")
    }

    func string(_ key: String) throws(InputRejection) -> String {
        try asString(key, try required(key))
    }

    func optionalString(_ key: String) throws(InputRejection) -> String? {
        guard let value = optional(key) else { return nil }
        return try asString(key, value)
    }

    private func asString(_ key: String, _ value: Node) throws(InputRejection) -> String {
        guard value.kind == .string else { throw wrongType(key, "a string", value) }
        return value.stringValue
    }

    func int(_ key: String) throws(InputRejection) -> Int {
        try asInt(key, try required(key))
    }

    func optionalInt(_ key: String) throws(InputRejection) -> Int? {
        guard let value = optional(key) else { return nil }
        return try asInt(key, value)
    }

    /// Integers, and numbers with an integral value such as `3.0` (as pydantic's lax mode accepts them).
    private func asInt(_ key: String, _ value: Node) throws(InputRejection) -> Int {
        switch value.kind {
        case .integer: return Int(value.integerValue)
        case .double:
            let number = value.doubleValue
            guard number == number.rounded(.towardZero), number.isFinite else {
                throw wrongType(key, "an integer", value)
            }
            guard number >= -9.2e18 && number <= 9.2e18 else {
                throw InputRejection(
                    .invalidValue, field: fieldPath(key), "\(fieldPath(key)) is out of the 64-bit integer range")
            }
            return Int(number)
        default: throw wrongType(key, "an integer", value)
        }
    }

    func number(_ key: String) throws(InputRejection) -> Double {
        try asNumber(key, try required(key))
    }

    func optionalNumber(_ key: String) throws(InputRejection) -> Double? {
        guard let value = optional(key) else { return nil }
        return try asNumber(key, value)
    }

    /// Negative zero reads as zero: the two parsers may disagree on the sign of a written `-0`.
    private func asNumber(_ key: String, _ value: Node) throws(InputRejection) -> Double {
        switch value.kind {
        case .integer, .double:
            let number = value.doubleValue
            guard number.isFinite else {
                throw InputRejection(
                    .invalidValue, field: fieldPath(key), "\(fieldPath(key)) is too large to be a finite number")
            }
            return number == 0 ? 0 : number
        default: throw wrongType(key, "a number", value)
        }
    }

    func object(_ key: String) throws(InputRejection) -> FieldReader {
        let value = try required(key)
        guard value.kind == .object else { throw wrongType(key, "an object", value) }
        return FieldReader(value, path: fieldPath(key))
    }

    /// Checks that an optional member, when present, is an object, without reading it.
    func requireObjectIfPresent(_ key: String) throws(InputRejection) {
        if let value = optional(key), value.kind != .object { throw wrongType(key, "an object", value) }
    }

    func optionalObject(_ key: String) throws(InputRejection) -> FieldReader? {
        guard let value = optional(key) else { return nil }
        guard value.kind == .object else { throw wrongType(key, "an object", value) }
        return FieldReader(value, path: fieldPath(key))
    }

    /// The array's elements, each required to be an object, as readers with indexed paths.
    func objects(_ key: String, required isRequired: Bool) throws(InputRejection) -> [FieldReader]? {
        let value: Node
        if isRequired {
            value = try required(key)
        } else {
            guard let present = optional(key) else { return nil }
            value = present
        }
        guard value.kind == .array else { throw wrongType(key, "an array", value) }
        let elements = value.elements
        let arrayPath = fieldPath(key)
        var readers: [FieldReader] = []
        readers.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard element.kind == .object else {
                let elementPath = "\(arrayPath)[\(index)]"
                throw InputRejection(
                    .wrongType, field: elementPath, "\(elementPath) must be an object, got \(element.typeName)")
            }
            readers.append(FieldReader(element, path: arrayPath, index: index))
        }
        return readers
    }

    /// A member that must be one of an enumeration's raw values, matched on the string's bytes.
    func oneOf<Value: WireNamed>(_ key: String, _ type: Value.Type) throws(InputRejection) -> Value {
        let node = try required(key)
        guard node.kind == .string else { throw wrongType(key, "a string", node) }
        guard let value = node.withUTF8({ Value.named($0) }) else {
            let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
            throw InputRejection(
                .invalidValue, field: fieldPath(key),
                "\(fieldPath(key)) must be one of \(allowed), got \"\(node.stringValue.prefix(100))\"")
        }
        return value
    }

    /// An RFC 3339 timestamp, kept as written.
    func timestamp(_ key: String, required isRequired: Bool) throws(InputRejection) -> String? {
        let text = isRequired ? try string(key) : try optionalString(key)
        guard let text else { return nil }
        guard RFC3339.isValid(text) else {
            throw InputRejection(
                .invalidValue, field: fieldPath(key),
                "\(fieldPath(key)) must be an RFC 3339 timestamp, got \"\(text.prefix(100))\"")
        }
        return text
    }
}

/// An enumeration that messages spell by its raw values. Matching the bytes against a table built once
/// avoids making a `String` and Swift's string switch (about 400 instructions a task status).
protocol WireNamed: RawRepresentable, CaseIterable where RawValue == String {
    /// Every case with its raw value's UTF-8 bytes; `static let wireNames = makeWireNames()`.
    static var wireNames: [(bytes: [UInt8], value: Self)] { get }
}

extension WireNamed {
    static func makeWireNames() -> [(bytes: [UInt8], value: Self)] { allCases.map { (Array($0.rawValue.utf8), $0) } }

    static func named(_ bytes: UnsafeRawBufferPointer) -> Self? {
        for name in wireNames where name.bytes.count == bytes.count {
            if name.bytes.withUnsafeBytes({ $0.elementsEqual(bytes) }) { return name.value }
        }
        return nil
    }
}

extension TaskStatus: WireNamed {
    static let wireNames = makeWireNames()
}

extension IssueSeverity: WireNamed {
    static let wireNames = makeWireNames()
}
