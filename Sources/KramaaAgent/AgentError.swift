/// What is wrong with an agent's configuration or with a value a rule would send, in words
/// that name the place (`rules[2].do[0].call.args[1]`) and what was expected there.
public struct AgentError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var problem: String

    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { path.isEmpty ? problem : "\(path): \(problem)" }
}
