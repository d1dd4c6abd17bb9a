import Foundation

/// How many cores this process can keep busy: the CPUs its affinity mask allows (`taskset`, cpusets),
/// lowered to a cgroup v2 CPU limit rounded up (a Kubernetes `limits.cpu`). Foundation's
/// `activeProcessorCount` sees neither; the decision shards are sized by this.
enum UsableCores {
    /// Read once per process: every `ServiceSettings` takes it as its default, and neither file changes
    /// under a running process in practice.
    static let count: Int = max(
        1, min(affinityCount ?? ProcessInfo.processInfo.activeProcessorCount, cgroupLimit ?? Int.max))

    /// The bits of `Cpus_allowed` in /proc/self/status (hex words separated by commas): the affinity mask
    /// as the kernel applies it (`sched_getaffinity` is not exported to Swift by Glibc).
    private static var affinityCount: Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") })
        else { return nil }
        let count = line.dropFirst("Cpus_allowed:".count).reduce(0) { count, digit in
            count + (digit.hexDigitValue?.nonzeroBitCount ?? 0)
        }
        return count > 0 ? count : nil
    }

    /// `cpu.max` reads "max 100000" without a limit, "150000 100000" for 1.5 CPUs (2 cores usable).
    private static var cgroupLimit: Int? {
        guard let text = try? String(contentsOfFile: "/sys/fs/cgroup/cpu.max", encoding: .utf8) else { return nil }
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]), quota > 0, period > 0 else {
            return nil
        }
        return (quota + period - 1) / period
    }
}
