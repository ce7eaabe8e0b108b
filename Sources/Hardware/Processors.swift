import CHardware
import Foundation

/// The processors this process can use, the default for how many threads to split work over.
public enum Processors {
    /// Foundation's `activeProcessorCount`, which on Linux honours a container's CPU quota but not the
    /// process's CPU affinity, capped by that affinity (`taskset -c 0`, a container's `--cpuset-cpus`, a
    /// Kubernetes CPU set): more threads than usable cores only take turns on them. At least 1.
    public static var available: Int {
        let active = ProcessInfo.processInfo.activeProcessorCount
        let affinity = Int(hardware_affinity_cpu_count())
        return max(1, affinity > 0 ? min(active, affinity) : active)
    }
}
