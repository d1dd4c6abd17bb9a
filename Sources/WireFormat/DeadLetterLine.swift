import DecisionCore

/// The dead-letter line `score` writes to standard error: the reason code, the sentence, where the line
/// came from, and the original line (as text, or base64 when it is not UTF-8).
public enum DeadLetterLine {
    public static func encode(_ rejection: InputRejection, file: String, line: Int, value: [UInt8]) -> [UInt8] {
        var w = JSONWriter(capacity: value.count + 256)
        w.beginObject()
        w.key("dlq_reason")
        w.string(rejection.reason.rawValue)
        w.key("dlq_error")
        w.string(rejection.message)
        w.key("source")
        w.beginObject()
        w.key("file")
        w.string(file)
        w.key("line")
        w.integer(line)
        w.endObject()
        if let text = String(validating: value, as: UTF8.self) {
            w.key("value")
            w.string(text)
        } else {
            w.key("value_base64")
            w.string(base64(value))
        }
        w.endObject()
        return w.bytes
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let b0 = UInt32(chunk[chunk.startIndex])
            let b1 = chunk.count > 1 ? UInt32(chunk[chunk.startIndex + 1]) : 0
            let b2 = chunk.count > 2 ? UInt32(chunk[chunk.startIndex + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(triple >> 18 & 63)])
            out.append(alphabet[Int(triple >> 12 & 63)])
            out.append(chunk.count > 1 ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            out.append(chunk.count > 2 ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
