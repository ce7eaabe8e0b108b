import Foundation
import Testing
@testable import NN

/// Temporary files of writes killed before their rename are removed by the next write to the same file;
/// a live writer's temporary file, and everything else, stays (issue 12's stale temporary files).
@Suite struct AtomicFileCleanupTests {
    @Test func theNextWriteRemovesOnlyTheDeadWritersTemporaryFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appendingPathComponent("w.safetensors")
        // 2^31 − 2 is above Linux's largest PID (2^22), so no process has it.
        let dead = ".w.safetensors.2147483646.\(UUID().uuidString).tmp"
        let live = ".w.safetensors.\(getpid()).\(UUID().uuidString).tmp"
        let otherTarget = ".other.safetensors.2147483646.\(UUID().uuidString).tmp"
        let unrelated = ".w.safetensors.notes.tmp"
        for name in [dead, live, otherTarget, unrelated] {
            try Data([1, 2, 3]).write(to: directory.appendingPathComponent(name))
        }
        try AtomicFile.write([7, 8, 9], to: target)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        #expect(left == [live, otherTarget, unrelated, "w.safetensors"])
        #expect(try Data(contentsOf: target) == Data([7, 8, 9]))
    }

    /// Earlier builds named temporary files `.NAME.UUID.tmp`, without the PID: one untouched for an hour is
    /// removed, a fresh one (perhaps still being written) stays; so does a live PID's file, unless it is an
    /// hour old (its PID then belongs to another process).
    @Test func temporaryFilesUntouchedForAnHourAreRemovedWhateverTheirName() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appendingPathComponent("w.safetensors")
        let oldLegacy = ".w.safetensors.\(UUID().uuidString).tmp"
        let freshLegacy = ".w.safetensors.\(UUID().uuidString).tmp"
        let oldLive = ".w.safetensors.\(getpid()).\(UUID().uuidString).tmp"
        let freshLive = ".w.safetensors.\(getpid()).\(UUID().uuidString).tmp"
        let oldUnrelated = ".w.safetensors.notes.tmp"
        for name in [oldLegacy, freshLegacy, oldLive, freshLive, oldUnrelated] {
            try Data([1, 2, 3]).write(to: directory.appendingPathComponent(name))
        }
        let twoHoursAgo = Date(timeIntervalSinceNow: -7200)
        for name in [oldLegacy, oldLive, oldUnrelated] {
            try FileManager.default.setAttributes(
                [.modificationDate: twoHoursAgo], ofItemAtPath: directory.appendingPathComponent(name).path)
        }
        try AtomicFile.write([7, 8, 9], to: target)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        #expect(left == [freshLegacy, freshLive, oldUnrelated, "w.safetensors"])
    }
}
