import DecisionCore

/// Reads the members of one JSON object by the contract's rules: a missing required member is
/// `missing_field`, a member of the wrong JSON type (null included) is `wrong_type`, and an optional
/// member may be absent or null. Every error names the member by its full path.
struct FieldReader {
    let object: JSONObject
    /// The object's own path, `""` for the message itself.
    let path: String

    init(_ object: JSONObject, path: String = "") {
        self.object = object
        self.path = path
    }

    func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func has(_ key: String) -> Bool { object[key] != nil }

    private func required(_ key: String) throws(InputRejection) -> JSONValue {
        guard let value = object[key] else {
            throw InputRejection(.missingField, field: fieldPath(key), "\(fieldPath(key)) is required")
        }
        return value
    }

    /// The member's value, or `nil` when it is absent or null.
    private func optional(_ key: String) -> JSONValue? {
        switch object[key] {
        case nil, .null?: return nil
        case let value?: return value
        }
    }

    func wrongType(_ key: String, _ expected: String, _ value: JSONValue) -> InputRejection {
        InputRejection(.wrongType, field: fieldPath(key), "\(fieldPath(key)) must be \(expected), got \(value.typeName)")
    }

    func string(_ key: String) throws(InputRejection) -> String {
        try asString(key, try required(key))
    }

    func optionalString(_ key: String) throws(InputRejection) -> String? {
        guard let value = optional(key) else { return nil }
        return try asString(key, value)
    }

    private func asString(_ key: String, _ value: JSONValue) throws(InputRejection) -> String {
        guard case let .string(text) = value else { throw wrongType(key, "a string", value) }
        return text
    }

    func int(_ key: String) throws(InputRejection) -> Int {
        try asInt(key, try required(key))
    }

    func optionalInt(_ key: String) throws(InputRejection) -> Int? {
        guard let value = optional(key) else { return nil }
        return try asInt(key, value)
    }

    /// Integers, and numbers with an integral value such as `3.0` (as pydantic's lax mode accepts them).
    private func asInt(_ key: String, _ value: JSONValue) throws(InputRejection) -> Int {
        switch value {
        case let .integer(number): return Int(number)
        case let .double(number) where number == number.rounded(.towardZero) && number.isFinite:
            guard number >= -9.2e18 && number <= 9.2e18 else {
                throw InputRejection(.invalidValue, field: fieldPath(key), "\(fieldPath(key)) is out of the 64-bit integer range")
            }
            return Int(number)
        case .double: throw wrongType(key, "an integer", value)
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

    private func asNumber(_ key: String, _ value: JSONValue) throws(InputRejection) -> Double {
        switch value {
        case let .integer(number): return Double(number)
        case let .double(number):
            guard number.isFinite else {
                throw InputRejection(.invalidValue, field: fieldPath(key), "\(fieldPath(key)) is too large to be a finite number")
            }
            return number
        default: throw wrongType(key, "a number", value)
        }
    }

    func bool(_ key: String) throws(InputRejection) -> Bool? {
        guard let value = optional(key) else { return nil }
        guard case let .bool(flag) = value else { throw wrongType(key, "true or false", value) }
        return flag
    }

    func object(_ key: String) throws(InputRejection) -> FieldReader {
        let value = try required(key)
        guard case let .object(members) = value else { throw wrongType(key, "an object", value) }
        return FieldReader(members, path: fieldPath(key))
    }

    func optionalObject(_ key: String) throws(InputRejection) -> FieldReader? {
        guard let value = optional(key) else { return nil }
        guard case let .object(members) = value else { throw wrongType(key, "an object", value) }
        return FieldReader(members, path: fieldPath(key))
    }

    /// The array's elements, each required to be an object, as readers with indexed paths.
    func objects(_ key: String, required isRequired: Bool) throws(InputRejection) -> [FieldReader]? {
        let value: JSONValue
        if isRequired {
            value = try required(key)
        } else {
            guard let present = optional(key) else { return nil }
            value = present
        }
        guard case let .array(elements) = value else { throw wrongType(key, "an array", value) }
        var readers: [FieldReader] = []
        readers.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            let elementPath = "\(fieldPath(key))[\(index)]"
            guard case let .object(members) = element else {
                throw InputRejection(.wrongType, field: elementPath, "\(elementPath) must be an object, got \(element.typeName)")
            }
            readers.append(FieldReader(members, path: elementPath))
        }
        return readers
    }

    /// A member that must be one of an enumeration's raw values.
    func oneOf<Value: RawRepresentable & CaseIterable>(_ key: String, _ type: Value.Type) throws(InputRejection) -> Value where Value.RawValue == String {
        let text = try string(key)
        guard let value = Value(rawValue: text) else {
            let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
            throw InputRejection(.invalidValue, field: fieldPath(key), "\(fieldPath(key)) must be one of \(allowed), got \"\(text.prefix(100))\"")
        }
        return value
    }

    /// An RFC 3339 timestamp, kept as written.
    func timestamp(_ key: String, required isRequired: Bool) throws(InputRejection) -> String? {
        let text = isRequired ? try string(key) : try optionalString(key)
        guard let text else { return nil }
        guard RFC3339.isValid(text) else {
            throw InputRejection(.invalidValue, field: fieldPath(key), "\(fieldPath(key)) must be an RFC 3339 timestamp, got \"\(text.prefix(100))\"")
        }
        return text
    }
}

extension JSONValue {
    /// The JSON type's name, for error sentences.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
