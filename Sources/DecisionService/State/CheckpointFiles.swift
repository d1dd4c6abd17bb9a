import DecisionEngine
import Foundation
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// The checkpoint files in a state directory (`--state-dir`): one per input partition, named after the
/// input topic and partition. A file is replaced atomically: written whole to a temporary file, synced,
/// renamed over the old one, and the directory synced, so a crash at any moment leaves either the old
/// checkpoint or the new one, never part of one (a leftover temporary file is removed at startup).
/// Blocking file calls run on NIO's thread pool, never on the cooperative pool. Written by hand: NIO's
/// file system module is still underscored (`_NIOFileSystem`) and its atomic creation does not sync.
struct CheckpointFiles: Sendable {
    let directory: String
    private static let suffix = ".checkpoint"
    private static let temporaryMarker = ".checkpoint.tmp-"

    /// Creates the directory when missing and checks that it can be written, removing temporary files a
    /// crash left; throws a one-line reason otherwise.
    static func prepare(_ directory: String) throws -> CheckpointFiles {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ServiceError("state directory \(directory) cannot be created: \(error.localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            throw ServiceError("state directory \(directory) is not writable")
        }
        let files = CheckpointFiles(directory: directory)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.contains(temporaryMarker) {
            try? FileManager.default.removeItem(atPath: files.path(of: name))
        }
        return files
    }

    func path(of name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// The file of one input partition.
    func path(inputTopic: String, partition: Int32) -> String { path(of: "\(inputTopic)-\(partition)\(Self.suffix)") }

    /// The file's bytes; `nil` when there is none.
    func read(_ path: String) async throws -> [UInt8]? {
        try await NIOThreadPool.singleton.runIfActive {
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ServiceError("\(path) cannot be read")
            }
            return [UInt8](data)
        }
    }

    /// Replaces the file at `path` with the bytes `encode` makes (on the thread pool too: a large state
    /// takes a while), atomically (see the type's comment); returns how many bytes were written.
    func replace(_ path: String, with encode: @escaping @Sendable () -> [UInt8]) async throws -> Int {
        let directory = directory
        // A name of its own per write: a write abandoned by its deadline never shares a file with the next.
        let temporary =
            path.replacingOccurrences(of: Self.suffix, with: Self.temporaryMarker) + UUID().uuidString.prefix(8)
        return try await NIOThreadPool.singleton.runIfActive {
            let bytes = encode()
            try Self.writeSynced(bytes, to: temporary)
            guard rename(temporary, path) == 0 else {
                let reason = Self.lastError()
                unlink(temporary)
                throw ServiceError("cannot rename \(temporary) to \(path): \(reason)")
            }
            // The rename is durable once the directory entry is.
            let handle = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if handle >= 0 {
                fsync(handle)
                close(handle)
            }
            return bytes.count
        }
    }

    private static func writeSynced(_ bytes: [UInt8], to path: String) throws {
        let handle = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard handle >= 0 else { throw ServiceError("cannot create \(path): \(lastError())") }
        defer { close(handle) }
        var written = 0
        try bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let result = write(handle, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    let reason = lastError()
                    unlink(path)
                    throw ServiceError("cannot write \(path): \(reason)")
                }
                written += result
            }
        }
        guard fsync(handle) == 0 else {
            let reason = lastError()
            unlink(path)
            throw ServiceError("cannot sync \(path): \(reason)")
        }
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
