import CHardware
import Foundation

/// The processors this process can use, the default for how many threads to split work over.
public enum Processors {
    /// Foundation's `activeProcessorCount`, capped by what it does not take into account: the process's CPU
    /// affinity (`taskset -c 0`, a container's `--cpuset-cpus`, a Kubernetes CPU set) and a cgroup v2 CPU
    /// quota (`docker --cpus`; it was seen to follow cgroup v1's). More threads than usable cores only take
    /// turns on them. At least 1.
    public static var available: Int {
        var count = ProcessInfo.processInfo.activeProcessorCount
        let affinity = Int(hardware_affinity_cpu_count())
        if affinity > 0 { count = min(count, affinity) }
        if let quota = cgroupCPUQuota() { count = min(count, quota) }
        return max(1, count)
    }

    /// The cgroup v2 CPU quota on this process in whole CPUs, rounded up: the smallest `cpu.max` ("150000
    /// 100000": 2) of the cgroup that `selfCgroup` (`/proc/self/cgroup`'s "0::/path" line) names and of its
    /// ancestors, under `root`. nil where none sets one ("max") or there is no cgroup v2.
    static func cgroupCPUQuota(
        root: String = "/sys/fs/cgroup",
        selfCgroup: String? = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
    ) -> Int? {
        guard let line = selfCgroup?.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else { return nil }
        let components = line.dropFirst(3).split(separator: "/").map(String.init)
        // The root's folder (depth 0) down to the cgroup's own: a quota anywhere on the path applies.
        let quotas = (0...components.count).compactMap { depth -> Int? in
            let folder = ([root] + components.prefix(depth)).joined(separator: "/")
            guard let text = try? String(contentsOfFile: folder + "/cpu.max", encoding: .utf8) else { return nil }
            let fields = text.split(whereSeparator: \.isWhitespace)
            guard fields.count == 2, let limit = Int(fields[0]), let period = Int(fields[1]), limit > 0, period > 0
            else { return nil }
            return (limit + period - 1) / period
        }
        return quotas.min()
    }
}
