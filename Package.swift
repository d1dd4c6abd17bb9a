// swift-tools-version: 6.1
import PackageDescription

// Layers, dependencies pointing one way only:
// CRdKafka → Kafka; DecisionCore → WireFormat; all → DecisionService → optimizer-decider.
let package = Package(
    name: "optimizer-decider",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "optimizer-decider", targets: ["optimizer-decider"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
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
        // The pure domain: reports, analysis, rules, reasons, strategy, decisions. No I/O, no dependencies.
        .target(name: "DecisionCore"),
        // The contract's JSON in and out, rules files, dead-letter reasons.
        .target(
            name: "WireFormat",
            dependencies: [
                "DecisionCore",
                "CSimdJSON",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The service: decider, state store actor, consumer loop, publisher, dead letters, metrics.
        .target(
            name: "DecisionService",
            dependencies: [
                "DecisionCore",
                "WireFormat",
                "Kafka",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "optimizer-decider",
            dependencies: [
                "DecisionService",
                "DecisionCore",
                "WireFormat",
                "Kafka",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "BenchmarkSupport", dependencies: ["WireFormat"], path: "Benchmarks/BenchmarkSupport"),
        // Micro-benchmarks of the decision path (BENCHMARKS.md): swift run -c release DecisionBenchmarks
        .executableTarget(
            name: "DecisionBenchmarks",
            dependencies: ["BenchmarkSupport", "DecisionCore", "WireFormat", "DecisionService"],
            path: "Benchmarks/DecisionBenchmarks"
        ),
        // End-to-end benchmark against a raw librdkafka pass-through (BENCHMARKS.md).
        .executableTarget(
            name: "PipelineBenchmark",
            dependencies: ["BenchmarkSupport", "Kafka", "WireFormat", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/PipelineBenchmark"
        ),
        .testTarget(name: "DecisionCoreTests", dependencies: ["DecisionCore"]),
        .testTarget(name: "WireFormatTests", dependencies: ["WireFormat", "DecisionCore"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka"]),
        .testTarget(name: "DecisionServiceTests", dependencies: ["DecisionService", "DecisionCore", "WireFormat", "Kafka"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
