import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// `/metrics`, `/healthz` and `/readyz` on Hummingbird: connections served concurrently on swift-nio's
/// event loops (never on the pipeline's tasks), so no client can make a probe wait behind it.
/// GET and HEAD only (405 otherwise, 404 for other paths); a connection that sends no complete request
/// head within the idle timeout is closed, so idle and slow-drip clients cannot pile up.
public struct EndpointServer: Service {
    /// How long a connection may stay without a complete request head (idle, or dripping bytes).
    public static let idleTimeout: TimeAmount = .seconds(5)

    private let application: any Service
    private let address: EndpointAddress

    /// `onListening` receives the address actually bound (port 0 picks a free port).
    public init(
        address: EndpointAddress, metrics: ServiceMetrics, readiness: Readiness, logger: Logger,
        onListening: @escaping @Sendable (EndpointAddress) -> Void = { _ in }
    ) {
        self.address = address
        let router = Router()
        router.addMiddleware { ReadOnlyMethods() }
        let routes: [(String, @Sendable () -> Response)] = [
            (
                "/metrics",
                {
                    Response(
                        status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.render())))
                }
            ),
            ("/healthz", { Self.text(.ok, "ok\n") }),
            (
                "/readyz",
                {
                    let snapshot = readiness.snapshot
                    return Self.text(snapshot.ready ? .ok : .serviceUnavailable, snapshot.explanation + "\n")
                }
            ),
        ]
        for (path, respond) in routes {
            router.get(RouterPath(path)) { _, _ in respond() }
            // HEAD: the same status and headers; the HTTP encoder sends no body for a HEAD request.
            router.head(RouterPath(path)) { _, _ in respond() }
        }
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: 8 * 1024, maxHeaderListSize: 16 * 1024, maxHeaderFieldCount: 64)
        application = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: Self.idleTimeout, httpDecoderConfiguration: decoder)),
            configuration: ApplicationConfiguration(
                address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in
                var bound = address
                if let port = channel.localAddress?.port { bound.port = port }
                logger.info("serving /metrics, /healthz and /readyz on http://\(bound)")
                onListening(bound)
            },
            logger: logger)
    }

    public func run() async throws {
        do {
            try await application.run()
        } catch {
            throw ServiceError("cannot serve the endpoints on \(address): \(error)")
        }
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Answers 405 to anything but GET and HEAD, before routing.
struct ReadOnlyMethods<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard request.method == .get || request.method == .head else {
            var response = EndpointServer.text(.methodNotAllowed, "only GET and HEAD are served\n")
            response.headers[.allow] = "GET, HEAD"
            return response
        }
        return try await next(request, context)
    }
}
