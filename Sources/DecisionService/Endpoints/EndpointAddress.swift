/// A `host:port` to serve the endpoints on: IPv4 (`127.0.0.1:9464`), a name (`localhost:9464`), or
/// IPv6 in brackets (`[::1]:9464`); port 0 picks a free port.
public struct EndpointAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(parsing text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ServiceError("metrics address \"\(text)\" must be host:port (IPv6 as [::1]:9464)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw ServiceError("metrics address \"\(text)\": an IPv6 host goes in brackets, as [::1]:9464")
        }
        guard !host.isEmpty else {
            throw ServiceError("metrics address \"\(text)\" needs a host, e.g. 0.0.0.0:\(port)")
        }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
