import ArgumentParser
import Foundation
import Kernels
import MNIST

/// Options every command that reads MNIST shares.
struct DataOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "A folder of MNIST-format files (raw or .gz); default: the bundled data/mnist.", valueName: "dir"),
        completion: .directory)
    var data: String?

    func directory() throws -> URL {
        if let data { return URL(fileURLWithPath: data) }
        guard let bundled = MNISTDataset.defaultDirectory() else {
            throw ValidationError("the bundled data/mnist folder was not found from here: pass --data DIR")
        }
        return bundled
    }

    /// The MNIST files the data folder holds (those present).
    func inputFiles() throws -> [URL] {
        let directory = try directory()
        return MNISTFile.allCases.compactMap { try? $0.location(in: directory) }
    }

    /// `split` of the data, checked for the models: 28×28 images, at least one of them.
    func load(_ split: MNISTDataset.Split) throws -> MNISTDataset {
        do {
            return try MNISTDataset.loadForModels(directory: directory(), split: split)
        } catch let error as InputError {
            throw ExitError(message: error.message)
        }
    }
}

struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for the kernels (default: every core). Results are reproducible for a given count.")
    var threads: Int?

    func apply() throws {
        guard let threads else { return }
        guard InputLimits.threads.contains(threads) else {
            throw ValidationError(
                "--threads must be between \(InputLimits.threads.lowerBound) and \(InputLimits.threads.upperBound), found \(threads)"
            )
        }
        Parallel.threadCount = threads
    }
}

/// Writes `text` to standard error.
func printError(_ text: String, terminator: String = "\n") {
    FileHandle.standardError.write(Data((text + terminator).utf8))
}

/// A one-line progress bar on standard error, drawn only when standard error is a terminal: the bar, the
/// batches done, images per second, the epoch's running loss and the time left (`EpochProgress.line`).
struct ProgressBar {
    let isEnabled = isatty(FileHandle.standardError.fileDescriptor) != 0
    let label: String

    func update(_ progress: EpochProgress) {
        let (done, total) = (progress.batchesDone, progress.batchCount)
        guard isEnabled, total > 0, done == total || done % max(1, total / 100) == 0 else { return }
        // "\e[K" clears what a longer previous line left after this one.
        printError("\r\(progress.line(label: label))\u{1B}[K", terminator: "")
        if done == total { printError("\r\u{1B}[2K", terminator: "") }
    }
}
