import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@testable import Datasets

/// The downloader with fake fetchers: nothing here touches the network.
@Suite struct MNISTDownloaderTests {
    struct Unreachable: Error, CustomStringConvertible {
        var description: String { "host unreachable" }
    }

    let mirrors = [URL(string: "https://first.example/mnist/")!, URL(string: "http://second.example/mnist/")!]

    @Test func listsEveryMirrorsFailureAndWritesNothing() throws {
        try withTemporaryDirectory { directory throws in
            var requested: [String] = []
            let downloader = MNISTDownloader(mirrors: mirrors) { url, timeout in
                requested.append(url.absoluteString)
                #expect(timeout == 5)
                if url.host == "first.example" { return [1, 2, 3] }
                throw Unreachable()
            }
            expectDatasetError(
                .downloadFailed,
                containing: [
                    "t10k-labels-idx1-ubyte.gz: download failed: every mirror failed:",
                    "https://first.example/mnist/t10k-labels-idx1-ubyte.gz: MD5 mismatch: expected ec29112dd5afa0611ce80d1b7f02629c, found 5289df737df57326fcdd22597afb1fac",
                    "http://second.example/mnist/t10k-labels-idx1-ubyte.gz: host unreachable",
                ]
            ) {
                try downloader.download(to: directory, timeout: 5, files: [.testLabels])
            }
            #expect(requested == mirrors.map { $0.absoluteString + "t10k-labels-idx1-ubyte.gz" })
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        }
    }

    @Test func describesATimeoutWithItsDuration() throws {
        try withTemporaryDirectory { directory in
            let downloader = MNISTDownloader(mirrors: [mirrors[0]]) { _, _ in throw URLError(.timedOut) }
            expectDatasetError(
                .downloadFailed,
                containing: [
                    "https://first.example/mnist/train-labels-idx1-ubyte.gz: timed out (nothing received for 2.5 seconds)"
                ]
            ) {
                try downloader.download(to: directory, timeout: 2.5, files: [.trainLabels])
            }
        }
    }

    @Test func usesTheFirstMirrorThatServesAVerifiedFile() throws {
        let bundled = try #require(Bundled.directory).appendingPathComponent("t10k-labels-idx1-ubyte.gz")
        let served = [UInt8](try Data(contentsOf: bundled))
        try withTemporaryDirectory { directory in
            let target = directory.appendingPathComponent("new/mnist")
            var downloader = MNISTDownloader(mirrors: mirrors) { url, _ in
                if url.host == "first.example" { throw Unreachable() }
                return served
            }
            downloader.expectedMD5 = { _ in MD5.hex(of: served) }
            let outcomes = try downloader.download(to: target, files: [.testLabels])
            #expect(outcomes.map(\.file) == [.testLabels])
            #expect(outcomes.map(\.outcome) == [.downloaded(mirror: mirrors[1])])
            #expect([UInt8](try Data(contentsOf: target.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))) == served)
            #expect(try FileManager.default.contentsOfDirectory(atPath: target.path) == ["t10k-labels-idx1-ubyte.gz"])
        }
    }

    @Test func leavesValidFilesAloneWithoutFetching() throws {
        let bundled = try #require(Bundled.directory)
        try withTemporaryDirectory { directory in
            // A gzip wrapper other than the published one, and a raw file: both hold the right content.
            try FileManager.default.copyItem(
                at: bundled.appendingPathComponent("t10k-labels-idx1-ubyte.gz"),
                to: directory.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
            let labels = try IDXFile.contents(of: bundled.appendingPathComponent("train-labels-idx1-ubyte.gz"))
            try write(labels, to: directory, as: "train-labels-idx1-ubyte")
            let downloader = MNISTDownloader(mirrors: mirrors) { url, _ in
                Issue.record("fetched \(url)")
                throw Unreachable()
            }
            let outcomes = try downloader.download(to: directory, files: [.testLabels, .trainLabels])
            #expect(outcomes.map(\.outcome) == [.alreadyPresent, .alreadyPresent])
        }
    }

    @Test func replacesAnInvalidFile() throws {
        let served = gzip(idxBytes(dimensions: [1], data: [4]))
        try withTemporaryDirectory { directory in
            try write([0, 0, 8, 1, 0], to: directory, as: "t10k-labels-idx1-ubyte.gz")
            var downloader = MNISTDownloader(mirrors: mirrors) { _, _ in served }
            downloader.expectedMD5 = { _ in MD5.hex(of: served) }
            #expect(
                try downloader.download(to: directory, files: [.testLabels]).map(\.outcome) == [
                    .downloaded(mirror: mirrors[0])
                ])
            #expect(
                [UInt8](try Data(contentsOf: directory.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))) == served)
        }
    }

    @Test func torchvisionsMirrorsComeInItsOrder() {
        #expect(
            MNISTDownloader.torchvisionMirrors.map(\.absoluteString) == [
                "https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/",
            ])
    }
}
