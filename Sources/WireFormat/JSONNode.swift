import CSimdJSON
import DecisionCore

/// The JSON types, as the decoder distinguishes them.
enum JSONKind {
    case null, bool, integer, double, string, array, object
}

/// A parsed JSON value the input decoder can read: the reference tree (``JSONValue``) or a simdjson
/// DOM element. The decoder is written once against this protocol, so both paths apply the same rules.
protocol JSONNode {
    var kind: JSONKind { get }
    /// For `.integer`: a number written without fraction or exponent that fits in 64 bits.
    var integerValue: Int64 { get }
    /// For `.integer` and `.double`.
    var doubleValue: Double { get }
    var stringValue: String { get }
    /// For `.string`: its UTF-8 bytes, without making a `String`.
    func withUTF8<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result
    /// The last member named `key` of an object.
    func member(_ key: String) -> Self?
    var elements: [Self] { get }
}

extension JSONNode {
    var typeName: String {
        switch kind {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

extension JSONValue: JSONNode {
    var kind: JSONKind {
        switch self {
        case .null: .null
        case .bool: .bool
        case .integer: .integer
        case .double: .double
        case .string: .string
        case .array: .array
        case .object: .object
        }
    }

    var integerValue: Int64 { if case let .integer(value) = self { value } else { 0 } }

    var doubleValue: Double {
        switch self {
        case let .integer(value): Double(value)
        case let .double(value): value
        default: .nan
        }
    }

    var stringValue: String { if case let .string(value) = self { value } else { "" } }

    func withUTF8<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        var text = stringValue
        return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    func member(_ key: String) -> JSONValue? {
        if case let .object(object) = self { object[key] } else { nil }
    }

    var elements: [JSONValue] { if case let .array(values) = self { values } else { [] } }
}

/// A simdjson DOM element; valid while its parser holds the document.
struct SimdJSONNode: JSONNode {
    let element: sj_element
    /// The parser that holds the document (it also keeps the index of recently read objects).
    let parser: OpaquePointer

    var kind: JSONKind {
        switch sj_type(element) {
        case SJ_ARRAY: .array
        case SJ_OBJECT: .object
        case SJ_INT64: .integer
        // Integers beyond Int64 are doubles in the reference tree too.
        case SJ_UINT64, SJ_DOUBLE: .double
        case SJ_STRING: .string
        case SJ_BOOL: .bool
        default: .null
        }
    }

    var integerValue: Int64 { sj_int64(element) }
    var doubleValue: Double { sj_double(element) }

    var stringValue: String {
        // simdjson has validated the UTF-8.
        withUTF8 { String(decoding: $0, as: UTF8.self) }
    }

    func withUTF8<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        var length = 0
        let bytes = sj_string(element, &length)!
        return body(UnsafeRawBufferPointer(start: bytes, count: length))
    }

    func member(_ key: String) -> SimdJSONNode? {
        var key = key
        return key.withUTF8 { utf8 in
            var value = sj_element()
            let found = utf8.withMemoryRebound(to: CChar.self) {
                sj_object_find_last(parser, element, $0.baseAddress, $0.count, &value)
            }
            return found != 0 ? SimdJSONNode(element: value, parser: parser) : nil
        }
    }

    var elements: [SimdJSONNode] {
        let count = sj_array_elements(element, nil, 0)
        return withUnsafeTemporaryAllocation(of: sj_element.self, capacity: count) { buffer in
            _ = sj_array_elements(element, buffer.baseAddress, count)
            return buffer.map { SimdJSONNode(element: $0, parser: parser) }
        }
    }
}

/// A reusable simdjson parser, owned by one decoding context (an actor, a command), never shared.
public final class SimdJSONParser {
    private let parser: OpaquePointer

    public init() {
        guard let parser = sj_parser_new(JSONParser.maximumDepth) else {
            fatalError("simdjson: out of memory creating a parser")
        }
        self.parser = parser
    }

    deinit { sj_parser_free(parser) }

    /// The root of the document, or `nil` when simdjson rejects the bytes (the caller then lets the
    /// reference parser give the precise verdict).
    func parse(_ bytes: UnsafeRawBufferPointer) -> SimdJSONNode? {
        var root = sj_element()
        let status = sj_parse(parser, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &root)
        return status == 0 ? SimdJSONNode(element: root, parser: parser) : nil
    }
}
