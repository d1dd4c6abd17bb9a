/// RFC 3339 timestamps (`2025-11-19T10:00:00Z`, `2025-11-19T10:00:00.250+02:00`), without Foundation.
public enum RFC3339 {
    public static func isValid(_ text: String) -> Bool { millisecondsSinceEpoch(text) != nil }

    /// The same for a timestamp given as its UTF-8 bytes.
    static func isValid(utf8: UnsafeBufferPointer<UInt8>) -> Bool { millisecondsSinceEpoch(utf8: utf8) != nil }

    /// Parses a timestamp to milliseconds since the Unix epoch; `nil` when the text is not RFC 3339.
    /// Fractions beyond milliseconds are truncated. A lower-case `t` or `z` and a space instead of `T`
    /// are accepted, as RFC 3339 allows.
    public static func millisecondsSinceEpoch(_ text: String) -> Int64? {
        // Read in place: two timestamps a run, an array each was a tenth of reading them.
        var text = text
        return text.withUTF8 { millisecondsSinceEpoch(utf8: $0) }
    }

    private static func millisecondsSinceEpoch(utf8 b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count >= 20 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var value = 0
            for i in start..<start + count {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                value = value * 10 + Int(b[i] - 0x30)
            }
            return value
        }
        guard let year = digits(0, 4), b[4] == 0x2D, let month = digits(5, 2), b[7] == 0x2D, let day = digits(8, 2),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == 0x20,
            let hour = digits(11, 2), b[13] == 0x3A, let minute = digits(14, 2), b[16] == 0x3A,
            let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var index = 19
        var millis = 0
        if index < b.count && b[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < b.count && b[index] >= 0x30 && b[index] <= 0x39 {
                if index - start < 3 { millis = millis * 10 + Int(b[index] - 0x30) }
                index += 1
            }
            guard index > start else { return nil }
            for _ in 0..<max(0, 3 - (index - start)) { millis *= 10 }
        }
        guard index < b.count else { return nil }
        var offsetSeconds = 0
        switch b[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = b[index] == UInt8(ascii: "-") ? -1 : 1
            guard let offsetHour = digits(index + 1, 2), index + 3 < b.count, b[index + 3] == 0x3A,
                let offsetMinute = digits(index + 4, 2), offsetHour <= 23, offsetMinute <= 59
            else { return nil }
            offsetSeconds = sign * (offsetHour * 3600 + offsetMinute * 60)
            index += 6
        default:
            return nil
        }
        guard index == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetSeconds)
        return seconds * 1000 + Int64(millis)
    }

    /// Formats milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func format(millisecondsSinceEpoch ms: Int64) -> String {
        let time = Civil(millisecondsSinceEpoch: ms)
        guard time.fitsFourDigitYear else {
            func pad(_ value: Int, _ width: Int) -> String {
                let text = String(value)
                return String(repeating: "0", count: max(0, width - text.count)) + text
            }
            return
                "\(pad(time.year, 4))-\(pad(time.month, 2))-\(pad(time.day, 2))T\(pad(time.hour, 2)):\(pad(time.minute, 2)):\(pad(time.second, 2)).\(pad(time.millisecond, 3))Z"
        }
        return String(unsafeUninitializedCapacity: Civil.length) { time.write(to: $0.baseAddress!) }
    }

    /// Lends ``format(millisecondsSinceEpoch:)``'s text: from the stack for years 0 to 9999 (every
    /// decision carries one, and needs no `String` for it).
    static func withText(millisecondsSinceEpoch ms: Int64, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let time = Civil(millisecondsSinceEpoch: ms)
        guard time.fitsFourDigitYear else {
            var text = format(millisecondsSinceEpoch: ms)
            return text.withUTF8(body)
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Civil.length) { out in
            body(UnsafeBufferPointer(start: out.baseAddress!, count: time.write(to: out.baseAddress!)))
        }
    }

    /// A UTC time's calendar fields.
    private struct Civil {
        static let length = 24
        var year, month, day, hour, minute, second, millisecond: Int

        init(millisecondsSinceEpoch ms: Int64) {
            let (days, msOfDay) = ms.quotientAndRemainder(dividingBy: 86_400_000)
            let (dayNumber, dayMs) = msOfDay < 0 ? (days - 1, msOfDay + 86_400_000) : (days, msOfDay)
            (year, month, day) = RFC3339.civilFromDays(Int(dayNumber))
            let totalSeconds = Int(dayMs / 1000)
            (hour, minute, second) = (totalSeconds / 3600, totalSeconds / 60 % 60, totalSeconds % 60)
            millisecond = Int(dayMs % 1000)
        }

        var fitsFourDigitYear: Bool { (0...9999).contains(year) }

        /// Writes the `length` bytes of the text, digit by digit; the year must fit four digits.
        func write(to out: UnsafeMutablePointer<UInt8>) -> Int {
            var position = 0
            func put(_ value: Int, _ width: Int) {
                var divisor = 1
                for _ in 1..<width { divisor *= 10 }
                for _ in 0..<width {
                    out[position] = UInt8(ascii: "0") + UInt8(value / divisor % 10)
                    position += 1
                    divisor /= 10
                }
            }
            func put(_ character: Unicode.Scalar) {
                out[position] = UInt8(ascii: character)
                position += 1
            }
            put(year, 4)
            put("-")
            put(month, 2)
            put("-")
            put(day, 2)
            put("T")
            put(hour, 2)
            put(":")
            put(minute, 2)
            put(":")
            put(second, 2)
            put(".")
            put(millisecond, 3)
            put("Z")
            return position
        }
    }

    private static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days-from-civil algorithms.
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
