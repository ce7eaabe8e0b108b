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

    /// The folder to read: `--data`, which must be a folder, or the bundled data/mnist.
    func directory() throws -> URL {
        if let data {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory) else {
                throw ExitError(message: "--data \(data): no such folder")
            }
            guard isDirectory.boolValue else {
                throw ExitError(message: "--data \(data) is not a folder: give the folder that holds the IDX files")
            }
            return URL(fileURLWithPath: data)
        }
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

    /// `split` of the data, checked for the models: 28×28 images, at least one of them. A `--data` folder
    /// whose labels are not MNIST's is read all the same, with a note (`noteIfNotMNIST`).
    func load(_ split: MNISTDataset.Split) throws -> MNISTDataset {
        let dataset: MNISTDataset
        do {
            dataset = try MNISTDataset.loadForModels(directory: directory(), split: split)
        } catch let error as InputError {
            throw ExitError(message: error.message)
        }
        // Every command that trains or evaluates reads the test set (training reads it second): the note
        // comes once, after the files were found good.
        if split == .test { noteIfNotMNIST() }
        return dataset
    }

    /// Says on standard error when a `--data` folder's labels files are not MNIST's published ones: the folder
    /// holds another dataset in MNIST's format (Fashion-MNIST) or a part of MNIST, whose accuracies are not
    /// MNIST's. Nothing for the bundled data, nor for a file that cannot be read (loading reports that).
    func noteIfNotMNIST() {
        guard data != nil, let directory = try? directory() else { return }
        let differing = [MNISTFile.trainLabels, .testLabels].compactMap { file -> String? in
            guard let matches = try? MNISTChecksums.matches(file, in: directory), !matches else { return nil }
            return (try? file.location(in: directory).lastPathComponent) ?? file.name
        }
        guard !differing.isEmpty else { return }
        let checksums =
            differing.count == 1
            ? "the MD5 of \(differing[0]) is" : "the MD5s of \(differing[0]) and \(differing[1]) are"
        printError(
            "note: \(directory.path) is not MNIST: \(checksums) not MNIST's; "
                + "reading it as another dataset in MNIST's format (such as Fashion-MNIST, or a part of MNIST)")
    }
}

struct ThreadOptions: ParsableArguments {
    @Option(
        help:
            "Threads for the kernels (default: the cores this process may use). Results are reproducible for a given count."
    )
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

/// Stops the command before any work, with the reason as its one-line error, when the matrix-product library
/// (OpenBLAS) cannot be loaded: the first product would otherwise stop the process with a trap.
func requireMatrixProducts() throws {
    if let failure = BLAS.loadingFailure { throw ExitError(message: failure) }
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
