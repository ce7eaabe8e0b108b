import CHardware
import Foundation

/// The processors this process can use, the default for how many threads to split work over.
public enum Processors {
    /// Foundation's `activeProcessorCount`, capped by what it does not take into account: the process's CPU
    /// affinity (`taskset -c 0`, a container's `--cpuset-cpus`, a Kubernetes CPU set) and a cgroup v2 or v1
    /// CPU quota (`docker --cpus`, a Kubernetes CPU limit). More threads than usable cores only take
    /// turns on them. At least 1.
    public static var available: Int {
        var count = ProcessInfo.processInfo.activeProcessorCount
        let affinity = Int(hardware_affinity_cpu_count())
        if affinity > 0 { count = min(count, affinity) }
        if let quota = cgroupCPUQuota() { count = min(count, quota) }
        return max(1, count)
    }

    /// The CPU quota on this process in whole CPUs, rounded up, from cgroup v2 or v1, nil where none is set
    /// or there are no cgroups. `selfCgroup` is `/proc/self/cgroup`; a quota on the process's cgroup or any
    /// of its ancestors applies, so the smallest counts:
    /// - cgroup v2: `cpu.max` ("150000 100000": 2; "max": none) of the cgroup its "0::/path" line names,
    ///   under `root`;
    /// - cgroup v1: `cpu.cfs_quota_us` over `cpu.cfs_period_us` (a quota of -1: none) of the cgroup its
    ///   cpu controller's line ("4:cpu,cpuacct:/path") names, under that controller's mount, `root/cpu` or
    ///   else `root/cpu,cpuacct` (the line's controllers).
    static func cgroupCPUQuota(
        root: String = "/sys/fs/cgroup",
        selfCgroup: String? = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
    ) -> Int? {
        guard let lines = selfCgroup?.split(separator: "\n") else { return nil }
        var quotas: [Int] = []
        if let line = lines.first(where: { $0.hasPrefix("0::") }) {
            quotas += folderQuotas(mount: root, path: line.dropFirst(3)) { folder in
                let fields = read(folder + "/cpu.max")?.split(whereSeparator: \.isWhitespace) ?? []
                guard fields.count == 2 else { return nil }
                return wholeCPUs(limit: Int(fields[0]), period: Int(fields[1]))
            }
        }
        // "id:controllers:path", the controllers comma-separated; v2's line has none.
        let version1 = lines.map { $0.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false) }
            .first { $0.count == 3 && $0[1].split(separator: ",").contains("cpu") }
        if let version1 {
            let mounts = [root + "/cpu", root + "/" + version1[1]]
            if let mount = mounts.first(where: { FileManager.default.fileExists(atPath: $0) }) {
                quotas += folderQuotas(mount: mount, path: version1[2]) { folder in
                    wholeCPUs(
                        limit: read(folder + "/cpu.cfs_quota_us").flatMap { Int($0) },
                        period: read(folder + "/cpu.cfs_period_us").flatMap { Int($0) })
                }
            }
        }
        return quotas.min()
    }

    /// The quotas `quota` reads from the folders of the cgroup at `path` under `mount` and of its
    /// ancestors up to `mount` itself, where one is set.
    private static func folderQuotas(mount: String, path: Substring, quota: (String) -> Int?) -> [Int] {
        let components = path.split(separator: "/").map(String.init)
        // The mount's folder (depth 0) down to the cgroup's own. In a container the mount is often the
        // container's own cgroup and the path the host's name for it: the deeper folders are then missing.
        return (0...components.count).compactMap { depth in
            quota(([mount] + components.prefix(depth)).joined(separator: "/"))
        }
    }

    /// `limit` microseconds of CPU time each `period` in whole CPUs, rounded up; nil unless both are positive.
    private static func wholeCPUs(limit: Int?, period: Int?) -> Int? {
        guard let limit, let period, limit > 0, period > 0 else { return nil }
        return (limit + period - 1) / period
    }

    /// A control file's contents without surrounding whitespace, or nil where it cannot be read.
    private static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
