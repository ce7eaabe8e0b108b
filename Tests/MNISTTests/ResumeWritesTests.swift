import Foundation
import Testing

/// A resumed run names in its last line only files it wrote (issue 12: with nothing left to train it named
/// a checkpoint and a metrics file it never wrote).
@Suite struct ResumeWritesTests {
    @Test func aResumedRunWithNothingLeftToTrainWritesEveryFileItNames() throws {
        let directory = try HostileInputTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try HostileInputTests.writeDataset(in: directory, count: 64, testCount: 10)
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let first = try HostileInputTests.run([
            "train", "--model", "mlp", "--epochs", "1", "--data", directory.path, "--output", path("w.safetensors"),
        ])
        #expect(first.status == 0, "\(first.error)")

        let files = ["w2.safetensors", "c2.safetensors", "m2.jsonl"]
        let resumed = try HostileInputTests.run([
            "train", "--resume", path("w.checkpoint.safetensors"), "--epochs", "1", "--data", directory.path,
            "--output", path(files[0]), "--checkpoint", path(files[1]), "--metrics", path(files[2]),
        ])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.output.contains("Wrote \(path(files[0])), \(path(files[2])) and \(path(files[1]))"))
        for file in files {
            #expect(FileManager.default.fileExists(atPath: path(file)), "\(file) is named but was not written")
        }
        // The checkpoint written is the one resumed from: its history of one epoch, again.
        let metrics = try String(contentsOfFile: path("m2.jsonl"), encoding: .utf8)
        #expect(metrics.split(separator: "\n").count == 1)
    }
}
