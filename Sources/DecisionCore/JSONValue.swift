/// A JSON value, as the contract's free-form fields (`metadata`, unknown task fields) carry it.
///
/// Objects keep their members in document order; when a key repeats, the last occurrence wins on lookup,
/// as it does for Python's `json` module, which existing clients use.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits in 64 bits.
    case integer(Int64)
    /// Any other number; always finite.
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// The members of a JSON object in document order.
public struct JSONObject: Sendable, Equatable {
    public var members: [(key: String, value: JSONValue)]

    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = members
    }

    /// The value of the last member named `key`, or `nil` when there is none.
    public subscript(key: String) -> JSONValue? {
        for member in members.reversed() where member.key == key {
            return member.value
        }
        return nil
    }

    /// Members with each repeated key once, where it first stood, with its last value: what Python's
    /// `json.loads` makes of such an object.
    public var uniqueMembers: [(key: String, value: JSONValue)] {
        // Small objects (a run's metadata) are checked pairwise, without a dictionary.
        if members.count <= 8 {
            let repeated = members.indices.contains { i in members[(i + 1)...].contains { $0.key == members[i].key } }
            if !repeated { return members }
        }
        var position: [String: Int] = [:]
        var unique: [(key: String, value: JSONValue)] = []
        for member in members {
            if let index = position[member.key] {
                unique[index].value = member.value
            } else {
                position[member.key] = unique.count
                unique.append(member)
            }
        }
        return unique
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
