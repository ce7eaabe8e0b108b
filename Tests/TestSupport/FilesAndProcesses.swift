import Foundation

/// Runs `executable` with `arguments` and `environment` added to this process's environment, and returns
/// its exit status (nil when it ran past `timeout` seconds and was stopped: it hung) and what it wrote.
///
/// Both pipes are read while the process runs, so one that writes more than a pipe holds never blocks.
public func runProcess(
    _ executable: URL, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 600
) throws -> (status: Int32?, output: String, error: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    let outputReader = PipeReader(output), errorReader = PipeReader(error)
    let readers = DispatchGroup()
    for reader in [outputReader, errorReader] {
        DispatchQueue.global().async(group: readers) { reader.readToEnd() }
    }
    // The pipes close when the process exits; stopping it closes them too.
    let timedOut = readers.wait(timeout: .now() + timeout) == .timedOut
    if timedOut {
        process.terminate()
        readers.wait()
    }
    process.waitUntilExit()
    return (timedOut ? nil : process.terminationStatus, outputReader.text, errorReader.text)
}

/// One pipe's bytes, read on another thread; `DispatchGroup.wait` orders the write before the read.
private final class PipeReader: @unchecked Sendable {
    let pipe: Pipe
    var data = Data()

    init(_ pipe: Pipe) { self.pipe = pipe }

    func readToEnd() { data = pipe.fileHandleForReading.readDataToEndOfFile() }

    var text: String { String(decoding: data, as: UTF8.self) }
}

/// Runs `body` with a fresh empty folder in the temporary directory, named `prefix` and a UUID, removed
/// afterwards.
public func withTemporaryDirectory<Result>(prefix: String = "tests", _ body: (URL) throws -> Result) throws -> Result {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}
