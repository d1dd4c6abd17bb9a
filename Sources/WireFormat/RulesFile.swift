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
    public static let keys = [
        "optimization_threshold", "critical_issue_threshold", "clarity_efficiency_gap", "low_score_threshold",
        "min_success_rate", "max_acceptable_latency_ms", "max_cost_per_request", "max_timeout_error_rate",
        "error_patterns", "baseline_window", "baseline_min_runs", "success_rate_drop", "latency_factor",
        "cost_factor", "trigger_on_regression", "variant_window", "variant_alpha",
    ]

    static func rules(from object: JSONObject) throws(RulesError) -> ScoringRules {
        try rejectUnknownOrRepeated(object, allowed: keys, path: "")
        var rules = ScoringRules()
        func number(_ key: String, _ target: inout Double) throws(RulesError) {
            guard let value = object[key] else { return }
            switch value {
            case let .integer(n): target = Double(n)
            case let .double(n): target = n
            default: throw RulesError("rules key \(key) must be a number, got \(value.typeName)")
            }
        }
        func integer(_ key: String, _ target: inout Int) throws(RulesError) {
            guard let value = object[key] else { return }
            guard case let .integer(n) = value, let exact = Int(exactly: n) else {
                throw RulesError(
                    "rules key \(key) must be an integer, got \(value.typeName == "a number" ? "a fraction" : value.typeName)"
                )
            }
            target = exact
        }
        try number("optimization_threshold", &rules.optimizationThreshold)
        try integer("critical_issue_threshold", &rules.criticalIssueThreshold)
        try number("clarity_efficiency_gap", &rules.clarityEfficiencyGap)
        try number("low_score_threshold", &rules.lowScoreThreshold)
        try number("min_success_rate", &rules.minSuccessRate)
        try number("max_acceptable_latency_ms", &rules.maxAcceptableLatencyMs)
        try number("max_cost_per_request", &rules.maxCostPerRequest)
        try number("max_timeout_error_rate", &rules.maxTimeoutErrorRate)
        try integer("baseline_window", &rules.history.baselineWindow)
        try integer("baseline_min_runs", &rules.history.baselineMinRuns)
        try number("success_rate_drop", &rules.history.successRateDrop)
        try number("latency_factor", &rules.history.latencyFactor)
        try number("cost_factor", &rules.history.costFactor)
        try integer("variant_window", &rules.variants.window)
        try number("variant_alpha", &rules.variants.alpha)
        if let value = object["trigger_on_regression"] {
            guard case let .bool(flag) = value else {
                throw RulesError("rules key trigger_on_regression must be true or false, got \(value.typeName)")
            }
            rules.history.triggerOnRegression = flag
        }
        if let value = object["error_patterns"] {
            guard case let .object(patterns) = value else {
                throw RulesError(
                    "rules key error_patterns must be a mapping with llm and validation lists, got \(value.typeName)")
            }
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
            rules.errorPatterns = ErrorPatterns(
                llm: try list("llm", ErrorPatterns.defaultLLM),
                validation: try list("validation", ErrorPatterns.defaultValidation))
        }
        do {
            try rules.validate()
        } catch {
            throw RulesError("rules key \(error.description)")
        }
        return rules
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
