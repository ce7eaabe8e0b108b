import Foundation
import TestSupport
import Testing

/// `mnist serve` finds `mnist-serve` next to itself and runs it with the options given; without it, it says how
/// to build it. Checked on a copy of the `mnist` tool in a folder of its own, beside a stand-in `mnist-serve`
/// script that prints its arguments.
@Suite struct ServeCommandTests {
    static let tool: URL? = {
        let url = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("mnist")
        guard FileManager.default.isExecutableFile(atPath: url.path),
            let help = try? runProcess(url, ["--help"]), help.output.contains("serve")
        else { return nil }
        return url
    }()

    /// A folder holding a copy of the `mnist` tool, removed by `body`'s caller afterwards.
    static func folderWithTool() throws -> (folder: URL, tool: URL) {
        let built = try #require(tool, "the mnist tool, with its serve subcommand, should be built next to the tests")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let copy = folder.appendingPathComponent("mnist")
        try FileManager.default.copyItem(at: built, to: copy)
        return (folder, copy)
    }

    @Test func withoutTheServerItSaysHowToBuildIt() throws {
        let (folder, tool) = try Self.folderWithTool()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try runProcess(tool, ["serve", "--weights", "lenet5.safetensors"])
        #expect(result.status == 1)
        #expect(result.error.contains("mnist-serve is missing"), "\(result.error)")
        #expect(result.error.contains("swift build -c release --product mnist-serve"), "\(result.error)")
    }

    @Test func itRunsTheServerNextToItWithTheOptionsGiven() throws {
        let (folder, tool) = try Self.folderWithTool()
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = folder.appendingPathComponent("mnist-serve")
        try "#!/bin/sh\necho \"$0 $*\"\n".write(to: server, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: server.path)

        let result = try runProcess(
            tool, ["serve", "--weights", "my weights.safetensors", "--port", "9000"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "\(server.path) --weights my weights.safetensors --port 9000\n")
        let withHost = try runProcess(tool, ["serve", "--weights", "w", "--host", "0.0.0.0"])
        #expect(withHost.output == "\(server.path) --weights w --host 0.0.0.0\n")
        // Several weights files, given at once or one option each, pass on as one list.
        for weights in [["--weights", "a", "b c", "d"], ["--weights", "a", "--weights", "b c", "--weights", "d"]] {
            let ensemble = try runProcess(tool, ["serve"] + weights + ["--port", "9001"])
            #expect(ensemble.status == 0, "\(ensemble.error)")
            #expect(ensemble.output == "\(server.path) --weights a b c d --port 9001\n")
        }
        let none = try runProcess(tool, ["serve", "--port", "9001"])
        #expect(none.status != 0 && none.error.contains("--weights"), "\(none.error)")
    }
}
