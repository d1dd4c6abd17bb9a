import DecisionCore
import Yams

/// A rules file that cannot be used: the sentence names the key and what is wrong with it.
public struct RulesError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Reads the rules file (contract section 3): YAML or JSON, every key optional, unknown keys, wrong types
/// and values out of range rejected by name.
public enum RulesFile {
    /// Parses rules text. JSON is recognised by a leading `{` (after white space); anything else is YAML.
    /// An empty document means every default.
    public static func parse(_ text: String) throws(RulesError) -> ScoringRules {
        let document: JSONValue
        if text.drop(while: { $0.isWhitespace }).first == "{" {
            do {
                document = try JSONParser.parse(Array(text.utf8))
            } catch {
                throw RulesError("the rules file is not valid JSON: \(error.message)")
            }
        } else {
            do {
                guard let node = try Yams.compose(yaml: text) else { return try rules(from: JSONObject()) }
                document = try jsonValue(node, path: "")
            } catch let error as RulesError {
                throw error
            } catch {
                throw RulesError("the rules file is not valid YAML: \(error)")
            }
        }
        switch document {
        case .null: return try rules(from: JSONObject())
        case let .object(object): return try rules(from: object)
        default: throw RulesError("the rules file must hold a mapping of keys to values, got \(document.typeName)")
        }
    }

    /// Every key the rules file accepts.
    public static let keys = RulesKey.allCases.map(\.rawValue)

    static func rules(from object: JSONObject) throws(RulesError) -> ScoringRules {
        try rejectUnknownOrRepeated(object, allowed: keys, path: "")
        var rules = ScoringRules()
        for key in RulesKey.allCases {
            guard let value = object[key.rawValue] else { continue }
            rules[key] = try read(value, for: key)
        }
        do {
            try rules.validate()
        } catch {
            throw RulesError("rules key \(error.description)")
        }
        return rules
    }

    /// One key's value, of the kind the key takes.
    private static func read(_ value: JSONValue, for key: RulesKey) throws(RulesError) -> RulesValue {
        let name = key.rawValue
        switch (key.kind, value) {
        case let (.number, .integer(n)): return .number(Double(n))
        case let (.number, .double(n)): return .number(n)
        case (.number, _): throw RulesError("rules key \(name) must be a number, got \(value.typeName)")
        case let (.integer, .integer(n)):
            guard let exact = Int(exactly: n) else { fallthrough }
            return .integer(exact)
        case (.integer, _):
            throw RulesError(
                "rules key \(name) must be an integer, got \(value.typeName == "a number" ? "a fraction" : value.typeName)"
            )
        case let (.flag, .bool(flag)): return .flag(flag)
        case (.flag, _): throw RulesError("rules key \(name) must be true or false, got \(value.typeName)")
        case let (.patterns, .object(patterns)): return .patterns(try errorPatterns(patterns))
        case (.patterns, _):
            throw RulesError("rules key \(name) must be a mapping with llm and validation lists, got \(value.typeName)")
        }
    }

    private static func errorPatterns(_ patterns: JSONObject) throws(RulesError) -> ErrorPatterns {
        try rejectUnknownOrRepeated(patterns, allowed: ["llm", "validation"], path: "error_patterns.")
        func list(_ key: String, _ fallback: [String]) throws(RulesError) -> [String] {
            guard let value = patterns[key] else { return fallback }
            guard case let .array(elements) = value else {
                throw RulesError("rules key error_patterns.\(key) must be a list of strings, got \(value.typeName)")
            }
            var strings: [String] = []
            for element in elements {
                guard case let .string(text) = element else {
                    throw RulesError(
                        "rules key error_patterns.\(key) must be a list of strings, got an element that is \(element.typeName)"
                    )
                }
                strings.append(text)
            }
            return strings
        }
        return ErrorPatterns(
            llm: try list("llm", ErrorPatterns.defaultLLM),
            validation: try list("validation", ErrorPatterns.defaultValidation))
    }

    private static func rejectUnknownOrRepeated(_ object: JSONObject, allowed: [String], path: String)
        throws(RulesError)
    {
        var seen = Set<String>()
        for member in object.members {
            guard allowed.contains(member.key) else {
                throw RulesError(
                    "unknown rules key \(path)\(member.key); known keys: \(allowed.joined(separator: ", "))")
            }
            guard seen.insert(member.key).inserted else {
                throw RulesError("rules key \(path)\(member.key) is given twice")
            }
        }
    }

    /// A YAML node as the JSON value it stands for, so YAML and JSON files share one set of checks.
    private static func jsonValue(_ node: Node, path: String) throws -> JSONValue {
        switch node {
        case let .scalar(scalar):
            switch Tag.Name(rawValue: node.tag.description) {
            case Tag.Name.null: return .null
            case Tag.Name.bool: return .bool(node.bool ?? false)
            case Tag.Name.int:
                guard let int = node.int else { throw RulesError("rules key \(path) is an integer out of range") }
                return .integer(Int64(int))
            case Tag.Name.float:
                guard let double = node.float, double.isFinite else {
                    throw RulesError("rules key \(path) must be a finite number")
                }
                return .double(double)
            default: return .string(scalar.string)
            }
        case let .sequence(sequence):
            return .array(try sequence.map { try jsonValue($0, path: path) })
        case let .mapping(mapping):
            var members: [(key: String, value: JSONValue)] = []
            for (key, value) in mapping {
                guard let name = key.string else { throw RulesError("rules keys must be strings") }
                members.append((name, try jsonValue(value, path: path.isEmpty ? name : "\(path).\(name)")))
            }
            return .object(JSONObject(members))
        }
    }
}
