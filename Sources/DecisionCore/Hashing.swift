import Crypto

/// SHA-256 for the stable identities the contract asks for (decision ids, legacy run identities, the rules
/// fingerprint, dead letters' value digests), from swift-crypto: BoringSSL's vectorised code on Linux.
/// Pure computation, so the core stays free of I/O.
public enum Hashing {
    /// The 32-byte SHA-256 digest of `bytes`.
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        withSHA256(of: bytes) { Array($0) }
    }

    /// Lends the digest of `bytes` to `body` without copying it out.
    public static func withSHA256<Result>(
        of bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Result
    ) -> Result {
        var hasher = SHA256()
        hasher.update(bufferPointer: bytes)
        return hasher.finalize().withUnsafeBytes(body)
    }

    /// The same for any bytes; contiguous ones (arrays, native strings' UTF-8) are hashed in place.
    public static func sha256<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        if let digest = bytes.withContiguousStorageIfAvailable({ sha256(UnsafeRawBufferPointer($0)) }) {
            return digest
        }
        return Array(bytes).withUnsafeBytes { sha256($0) }
    }
}

/// Lower-case hexadecimal digits of `bytes`, two per byte.
public func hexString<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    let digits: StaticString = "0123456789abcdef"
    var out: [UInt8] = []
    out.reserveCapacity(bytes.underestimatedCount * 2)
    for byte in bytes {
        out.append(digits.utf8Start[Int(byte >> 4)])
        out.append(digits.utf8Start[Int(byte & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}
