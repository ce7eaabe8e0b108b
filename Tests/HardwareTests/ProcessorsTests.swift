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
    /// A folder with `cpu.max` files at the given paths, removed after `body`.
    func withHierarchy(_ files: [String: String], _ body: (String) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cgroup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for (path, contents) in files {
            let folder = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try contents.write(to: folder.appendingPathComponent("cpu.max"), atomically: true, encoding: .utf8)
        }
        try body(root.path)
    }

    @Test func aContainersOwnQuotaRoundsUp() throws {
        try withHierarchy([".": "50000 100000\n"]) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "0::/\n") == 1)
        }
        try withHierarchy([".": "150000 100000\n"]) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "0::/\n") == 2)
        }
    }

    @Test func theSmallestQuotaOnThePathToTheRootCounts() throws {
        try withHierarchy(["a/b": "max 100000\n", "a": "300000 100000\n", ".": "max 100000\n"]) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "0::/a/b\n") == 3)
        }
        try withHierarchy(["a/b": "100000 100000\n", "a": "300000 100000\n"]) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "0::/a/b\n") == 1)
        }
    }

    @Test func noQuotaNoCgroupV2OrAnUnreadableFileGiveNone() throws {
        try withHierarchy([".": "max 100000\n"]) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "0::/\n") == nil)
            // cgroup v1 only: no "0::" line.
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "4:cpu:/\n1:name=systemd:/\n") == nil)
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: nil) == nil)
        }
        try withHierarchy([".": "a lot\n"]) { root in
            #expect(Processors.cgroupCPUQuota(root: root, selfCgroup: "0::/\n") == nil)
        }
    }
}
