import ArgumentParser
import DecisionCore
import Foundation
import Synchronization
import WireFormat

/// A command that cannot go on: printed as one line, exit code 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Reads and checks the rules file, or the defaults when there is none.
func loadRules(_ path: String?) throws -> ScoringRules {
    guard let path else { return ScoringRules() }
    let bytes: [UInt8]
    do {
        // POSIX reads, so the reason is the system's own ("No such file or directory", "it is a
        // directory") and a device such as /dev/null reads as empty; Foundation answered "You don't have
        // permission" to both.
        bytes = try LineReader(path: path).readToEnd()
    } catch {
        throw CommandFailure("cannot read the rules file \(path): \(error)")
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw CommandFailure("the rules file \(path) is not UTF-8 text")
    }
    do {
        return try RulesFile.parse(text)
    } catch {
        throw CommandFailure("rules file \(path): \(error.description)")
    }
}

/// Lines of a file or of standard input, read in large blocks; lines keep their bytes exactly
/// (the trailing newline removed), since a legacy message's identity is the hash of its bytes.
final class LineReader {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    init(path: String) throws {
        if path == "-" {
            fd = 0
        } else {
            fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw CommandFailure(String(cString: strerror(errno))) }
            var info = stat()
            if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                close(fd)
                throw CommandFailure("it is a directory")
            }
        }
    }

    deinit { if fd > 0 { close(fd) } }

    /// Everything not read yet, to the end of the file.
    func readToEnd() throws -> [UInt8] {
        while !atEnd { try fill() }
        defer { start = buffer.count }
        return Array(buffer[start...])
    }

    func nextLine() throws -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                return line
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                return line
            }
            try fill()
        }
    }

    /// Reads the next block into the buffer (dropping what was already returned), or notes the end.
    private func fill() throws {
        buffer.removeFirst(start)
        start = 0
        var block = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CommandFailure("read failed: \(String(cString: strerror(errno)))")
            }
            if count == 0 { atEnd = true } else { buffer.append(contentsOf: block[0..<count]) }
            return
        }
    }
}

/// Buffered writes to a file descriptor.
final class OutputStream: Sendable {
    private let fd: Int32
    private let buffer: Mutex<[UInt8]>

    init(fd: Int32) {
        self.fd = fd
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 16)
        self.buffer = Mutex(buffer)
    }

    func write(_ bytes: [UInt8]) {
        buffer.withLock { buffer in
            buffer.append(contentsOf: bytes)
            if buffer.count >= 1 << 16 { Self.drain(&buffer, to: fd) }
        }
    }

    func flush() {
        buffer.withLock { Self.drain(&$0, to: fd) }
    }

    private static func drain(_ buffer: inout [UInt8], to fd: Int32) {
        var offset = 0
        while offset < buffer.count {
            let written = buffer[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                break
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
