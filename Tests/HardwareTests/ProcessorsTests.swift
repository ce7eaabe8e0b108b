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
