/// How serious a prompt issue is.
public enum IssueSeverity: String, Sendable, CaseIterable {
    case critical, warning, info
}

public struct PromptIssue: Sendable, Equatable {
    public var severity: IssueSeverity
    public var type: String
    public var description: String

    public init(severity: IssueSeverity, type: String, description: String) {
        self.severity = severity
        self.type = type
        self.description = description
    }
}

/// The static analysis of the prompt under test (contract section 2.4), optional on every shape.
public struct PromptAnalysis: Sendable, Equatable {
    public var promptID: String?
    public var overallScore: Double
    public var clarityScore: Double
    public var efficiencyScore: Double
    public var issues: [PromptIssue]

    public init(
        promptID: String? = nil, overallScore: Double, clarityScore: Double, efficiencyScore: Double,
        issues: [PromptIssue] = []
    ) {
        self.promptID = promptID
        self.overallScore = overallScore
        self.clarityScore = clarityScore
        self.efficiencyScore = efficiencyScore
        self.issues = issues
    }

    public var criticalIssueCount: Int { issues.count { $0.severity == .critical } }
}
