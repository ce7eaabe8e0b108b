import Foundation
import TestSupport
import Testing

/// The README's library example, taken from README.md itself (not a copy that could drift from it) and
/// compiled against the modules this build made.
///
/// It is compiled, not run: as written it trains for ten epochs on all of MNIST. Training and its accuracy
/// are the end-to-end tests' business. CI also builds the same block (the first ```swift block under
/// "## The library", extracted the same way) as a package depending on this one by version
/// (scripts/check_consumer.sh); this test catches the drift in `swift test`, before a commit.
@Suite struct ReadmeExampleTests {
    /// The package's root folder, from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The lines of the first ```swift block under the "## The library" heading, as check_consumer.sh finds
    /// them.
    static func libraryExample(in readme: String) -> String? {
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false)
        guard let heading = lines.firstIndex(where: { $0.hasPrefix("## The library") }),
            let opening = lines[heading...].firstIndex(where: {
                $0.hasPrefix("```swift") && $0.dropFirst(8).allSatisfy(\.isWhitespace)
            }),
            let closing = lines[(opening + 1)...].firstIndex(where: { $0.hasPrefix("```") })
        else { return nil }
        return lines[(opening + 1)..<closing].joined(separator: "\n") + "\n"
    }

    @Test func theReadmeLibraryExampleCompiles() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let example = try #require(Self.libraryExample(in: readme), "no ```swift block under '## The library'")
        #expect(example.contains("import MNIST") && example.contains("optimizer.step()"))

        // The folder `swift build` put the test bundle in holds the Swift modules (Modules/) and the C
        // targets' module maps (<target>.build/); the system libraries' maps are in Sources/.
        let products = Bundle.module.bundleURL.deletingLastPathComponent()
        let files = FileManager.default
        let builtMaps = try files.contentsOfDirectory(atPath: products.path).filter { $0.hasSuffix(".build") }.map {
            products.appendingPathComponent($0).appendingPathComponent("module.modulemap")
        }
        let sourceMaps = try files.contentsOfDirectory(atPath: Self.root.appendingPathComponent("Sources").path).map {
            Self.root.appendingPathComponent("Sources").appendingPathComponent($0)
                .appendingPathComponent("module.modulemap")
        }
        let moduleMaps = (builtMaps + sourceMaps).filter { files.fileExists(atPath: $0.path) }

        let directory = files.temporaryDirectory.appendingPathComponent("readme-example-\(UUID().uuidString)")
        try files.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? files.removeItem(at: directory) }
        let main = directory.appendingPathComponent("main.swift")
        try example.write(to: main, atomically: true, encoding: .utf8)
        let arguments =
            [
                "swiftc", "-c", "-swift-version", "6", "-module-name", "ReadmeExample", "-I",
                products.appendingPathComponent("Modules").path, "-o", directory.appendingPathComponent("main.o").path,
            ] + moduleMaps.flatMap { ["-Xcc", "-fmodule-map-file=\($0.path)"] } + [main.path]
        let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), arguments, timeout: 300)
        #expect(result.status == 0, "swiftc failed on README.md's library example:\n\(result.error)\(result.output)")
    }

    /// The extraction takes exactly the block under the heading, not an earlier or later one.
    @Test func theExampleIsTheBlockUnderTheHeading() {
        let readme = """
            ```swift
            before
            ```
            ## The library
            Text.

            ```swift
            let a = 1
              let b = 2
            ```
            ```swift
            after
            ```
            """
        #expect(Self.libraryExample(in: readme) == "let a = 1\n  let b = 2\n")
        #expect(Self.libraryExample(in: "## Other\n```swift\nx\n```\n") == nil)
    }
}
