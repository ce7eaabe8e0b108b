import CHardware
import CTestSupport
import Foundation
import Synchronization
import Testing

@testable import Hardware

@Suite struct ProcessorsTests {
    @Test func availableIsAtLeastOneAndAtMostTheActiveCores() {
        #expect(Processors.available >= 1)
        #expect(Processors.available <= ProcessInfo.processInfo.activeProcessorCount)
    }

    #if os(Linux)
    /// A thread pinned to the one CPU it runs on (as `taskset -c` would pin the process) counts one
    /// processor, whatever the machine has. Only on a one-CPU machine would ignoring the affinity pass too.
    @Test func affinityCapsTheCount() throws {
        let counts = Mutex<(affinity: Int32, available: Int)?>(nil)
        let done = DispatchSemaphore(value: 0)
        // A thread of its own, so no other test's thread loses its cores.
        let thread = Thread {
            defer { done.signal() }
            guard test_support_pin_calling_thread() == 0 else { return }
            counts.withLock { $0 = (hardware_affinity_cpu_count(), Processors.available) }
        }
        thread.start()
        done.wait()
        let measured = try #require(counts.withLock { $0 })
        #expect(measured.affinity == 1)
        #expect(measured.available == 1)
    }
    #endif
}

@Suite struct CgroupQuotaTests {
    /// A folder holding the given files (path under it: contents), removed after `body`.
    func withHierarchy(_ files: [String: String], _ body: (String) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cgroup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for (path, contents) in files {
            let file = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: file, atomically: true, encoding: .utf8)
        }
        try body(root.path)
    }

    /// cgroup v1's two files for a quota of `quota` microseconds each 100 ms in the folder `folder`.
    func version1(_ folder: String, quota: Int) -> [String: String] {
        [folder + "/cpu.cfs_quota_us": "\(quota)\n", folder + "/cpu.cfs_period_us": "100000\n"]
    }

    @Test func aContainersOwnQuotaRoundsUp() throws {
        try withHierarchy(["cpu.max": "50000 100000\n"]) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "0::/\n") == 1)
        }
        try withHierarchy(["cpu.max": "150000 100000\n"]) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "0::/\n") == 2)
        }
    }

    @Test func theSmallestQuotaOnThePathToTheRootCounts() throws {
        try withHierarchy(["a/b/cpu.max": "max 100000\n", "a/cpu.max": "300000 100000\n", "cpu.max": "max 100000\n"]) {
            root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "0::/a/b\n") == 3)
        }
        try withHierarchy(["a/b/cpu.max": "100000 100000\n", "a/cpu.max": "300000 100000\n"]) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "0::/a/b\n") == 1)
        }
    }

    @Test func noQuotaNoCgroupsOrAnUnreadableFileGiveNone() throws {
        try withHierarchy(["cpu.max": "max 100000\n"]) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "0::/\n") == nil)
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: nil) == nil)
        }
        try withHierarchy(["cpu.max": "a lot\n"]) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "0::/\n") == nil)
        }
        try withHierarchy(version1("cpu", quota: -1)) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "4:cpu:/\n1:name=systemd:/\n") == nil)
        }
        // A quota without its period.
        try withHierarchy(["cpu/cpu.cfs_quota_us": "100000\n"]) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "4:cpu:/\n") == nil)
        }
    }

    /// cgroup v1 (as on this package's own development machines, where Foundation was seen to ignore a
    /// child cgroup's quota): the cpu controller's line names the cgroup, under its mount.
    @Test func aVersion1QuotaOnTheCgroupOrAnAncestorCounts() throws {
        try withHierarchy(version1("cpu/quota-test", quota: 150000).merging(version1("cpu", quota: -1)) { $1 }) {
            root in
            let selfCgroup = "9:name=systemd:/\n2:cpuacct:/\n1:cpu:/quota-test\n0::/\n"
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: selfCgroup) == 2)
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "1:cpu:/quota-test/inner\n") == 2)
            // Another controller's line names nothing for the quota.
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "2:cpuacct:/quota-test\n") == nil)
        }
        // Mounted with cpuacct as "cpu,cpuacct", no "cpu" link.
        try withHierarchy(version1("cpu,cpuacct/docker/abc", quota: 50000)) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "3:cpu,cpuacct:/docker/abc\n") == 1)
        }
        // Inside a container the mount is its own cgroup while the line gives the host's path.
        try withHierarchy(version1("cpu", quota: 300000)) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "3:cpuacct,cpu:/docker/abc\n") == 3)
        }
    }

    /// Where both exist, the smaller of the two quotas counts.
    @Test func theSmallerOfVersion2AndVersion1Counts() throws {
        let files = version1("cpu", quota: 100000).merging(["cpu.max": "300000 100000\n"]) { $1 }
        try withHierarchy(files) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "1:cpu:/\n0::/\n") == 1)
        }
    }
}
