// swift-tools-version: 6.1
import PackageDescription

// Layers, dependencies pointing one way only:
// CRdKafka → Kafka; DecisionCore → WireFormat → DecisionEngine (no Kafka); all → DecisionService → optimizer-decider.
let package = Package(
    name: "optimizer-decider",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "optimizer-decider", targets: ["optimizer-decider"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context", from: "1.0.0"),
        // Already built for Hummingbird; its thread pool runs the checkpoints' blocking file I/O.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // SHA-256 for decision ids (BoringSSL's vectorised code); already in the graph through Hummingbird.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // C interop: librdkafka from Debian's librdkafka-dev.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // C interop: simdjson from Debian's libsimdjson-dev, behind a tiny C interface.
        .target(
            name: "CSimdJSON",
            // SwiftPM compiles C++ with -O2 but without NDEBUG: simdjson's inline code would keep its asserts.
            cxxSettings: [.define("NDEBUG", .when(configuration: .release))],
            linkerSettings: [.linkedLibrary("simdjson")]
        ),
        // A small, safe Swift layer over librdkafka; the only code that calls it.
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The pure domain: reports, analysis, rules, reasons, strategy, decisions. No I/O; its one
        // dependency is swift-crypto's SHA-256 for decision ids and fingerprints.
        .target(name: "DecisionCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // The contract's JSON in and out, rules files, dead-letter reasons.
        .target(
            name: "WireFormat",
            dependencies: [
                "DecisionCore",
                "CSimdJSON",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The decision engine: bytes with partition and offset → decode → decide → per-partition state
        // (dedup ids, history, variants) → encode. No Kafka: `score`, the benchmarks and the service share it.
        .target(name: "DecisionEngine", dependencies: ["DecisionCore", "WireFormat"]),
        // The service: the pipelined consumer loop, delivery watermarks, restore, publisher, dead letters,
        // replay, metrics and endpoints, all as swift-service-lifecycle services.
        .target(
            name: "DecisionService",
            dependencies: [
                "DecisionCore",
                "WireFormat",
                "DecisionEngine",
                "Kafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "optimizer-decider",
            dependencies: [
                "DecisionService",
                "DecisionEngine",
                "DecisionCore",
                "WireFormat",
                "Kafka",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(name: "BenchmarkSupport", dependencies: ["WireFormat"], path: "Benchmarks/BenchmarkSupport"),
        // Micro-benchmarks of the decision path (BENCHMARKS.md): swift run -c release DecisionBenchmarks
        .executableTarget(
            name: "DecisionBenchmarks",
            dependencies: ["BenchmarkSupport", "DecisionCore", "WireFormat", "DecisionEngine"],
            path: "Benchmarks/DecisionBenchmarks"
        ),
        // End-to-end benchmark against a raw librdkafka pass-through (BENCHMARKS.md).
        .executableTarget(
            name: "PipelineBenchmark",
            dependencies: ["BenchmarkSupport", "Kafka", "WireFormat", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/PipelineBenchmark"
        ),
        // Test values shared by the core's and the wire format's tests.
        .target(name: "CoreFixtures", dependencies: ["DecisionCore"], path: "Tests/CoreFixtures"),
        .testTarget(name: "DecisionCoreTests", dependencies: ["DecisionCore", "CoreFixtures"]),
        .testTarget(name: "WireFormatTests", dependencies: ["WireFormat", "DecisionCore", "CoreFixtures"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka"]),
        .testTarget(name: "DecisionEngineTests", dependencies: ["DecisionEngine", "DecisionCore", "WireFormat"]),
        .testTarget(
            name: "DecisionServiceTests",
            dependencies: ["DecisionService", "DecisionEngine", "DecisionCore", "WireFormat", "Kafka"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
