import ArgumentParser
import Foundation
import Imaging
import MNIST
import Reports

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Describe the dataset as the tutorial does, and show a few samples.")

    @OptionGroup var dataOptions: DataOptions
    @Option(help: "How many training samples to draw in the terminal.")
    var show = 3
    @Option(
        help: ArgumentHelp("Also write a grid of the first 100 training samples as a PNG.", valueName: "file"),
        completion: .file(extensions: ["png"]))
    var png: String?
    @Flag(
        help: "Check the files' MD5 checksums against the published ones (the bundled MNIST's, not another dataset's).")
    var verify = false
    @Flag(
        help:
            "Draw the samples as `mnist train --augment` shows them to the model: randomly rotated, scaled and shifted."
    )
    var augment = false
    @Flag(help: "Draw the samples as `mnist train --elastic` shows them to the model: elastically distorted at random.")
    var elastic = false
    @Flag(
        help:
            "Draw the samples as `mnist train --deskew` shows them to the model: sheared upright (before --augment and --elastic)."
    )
    var deskew = false
    @Option(
        help: ArgumentHelp(
            "Draw the samples as `mnist train --ink-width N` shows them to the model: each digit's ink N pixels wide (after --deskew, before --augment and --elastic).",
            valueName: "pixels"))
    var inkWidth: Int?
    @Option(help: "Seeds the random transforms of --augment and --elastic.")
    var seed: UInt64 = 0

    func validate() throws {
        if let inkWidth, !(1...InputLimits.imageColumns).contains(inkWidth) {
            throw ValidationError("--ink-width must be between 1 and \(InputLimits.imageColumns), found \(inkWidth)")
        }
    }

    func run() throws {
        let directory = try dataOptions.directory()
        if let png {
            // Before the work, and never over the data it reads.
            try OutputPaths.check(
                outputs: [("--png", URL(fileURLWithPath: png))],
                inputs: try dataOptions.inputFiles().map { ("--data", $0) })
        }
        if verify {
            try MNISTChecksums.verifyAll(in: directory)
            print("Checksums: all four files match MNIST's published MD5s")
        }
        let trainingSet = try MNISTDataset.load(directory: directory, split: .train)
        let testSet = try MNISTDataset.load(directory: directory, split: .test)
        dataOptions.noteIfNotMNIST()
        if let png, trainingSet.imageCount == 0 {
            let imagesPath = (try? MNISTFile.trainImages.location(in: directory).path) ?? directory.path
            throw ExitError(
                message:
                    "--png \(png): \(imagesPath) holds no images (its header counts 0), so there are no samples to draw"
            )
        }
        if let inkWidth, inkWidth > trainingSet.columns {
            throw ExitError(
                message:
                    "--ink-width \(inkWidth): the images in \(directory.path) are \(trainingSet.columns) pixels wide, so the ink can be at most that wide"
            )
        }
        print("Number of training samples: \(trainingSet.imageCount)")
        print("Number of testing samples: \(testSet.imageCount)")
        if trainingSet.imageCount > 0 {
            let sample = trainingSet.sampleTensor(at: 0)
            print("Datatype of the 1st training sample: Float32")
            print("Size of the 1st training sample: \(sample.shape)")
        }
        for (name, dataset) in [("training", trainingSet), ("test", testSet)] {
            let counts = dataset.labelCounts.enumerated().map { "\($0.offset): \($0.element)" }.joined(separator: ", ")
            print("Label counts (\(name)): \(counts)")
        }
        let transformed = augment || elastic
        // As training prepares them: preprocessed once, then transformed anew each epoch.
        let preprocessing = InputPreprocessing(deskew: deskew, inkWidth: inkWidth)
        let written = preprocessing.isNone ? trainingSet : preprocessing.apply(to: trainingSet.prefix(100))
        let samples = transformed ? augmented(written.prefix(100)) : written
        let note =
            (deskew ? ", deskewed" : "") + (inkWidth.map { ", ink \($0) px wide" } ?? "")
            + (transformed ? ", augmented" : "")
        for index in 0..<min(max(show, 0), samples.imageCount) {
            print("\nTraining sample \(index), label \(samples.labels[index])\(note):")
            print(samples.asciiArt(at: index))
        }
        if let png {
            let indices = Array(0..<min(100, trainingSet.imageCount))
            // The grid's size as `sampleGrid` lays it out, checked before drawing: a PNG side is at most
            // `PNGDecoder.maximumSide` pixels.
            let (width, height) = samples.sampleGridSize(count: indices.count, columns: 10)
            guard width <= PNGDecoder.maximumSide, height <= PNGDecoder.maximumSide else {
                throw ExitError(
                    message:
                        "--png \(png): \(indices.count) samples of \(samples.rows)×\(samples.columns) pixels make a \(width)×\(height) grid, over the \(PNGDecoder.maximumSide) pixels a PNG side may have"
                )
            }
            let grid = samples.sampleGrid(indices: indices, columns: 10)
            try AtomicFile.write(PNGEncoder.encode(grid), to: URL(fileURLWithPath: png))
            print("\nWrote \(png) (\(grid.width)×\(grid.height))")
        }
    }

    /// `dataset`'s images as one augmented (or distorted) epoch of a loader in dataset order shows them, back
    /// in bytes.
    func augmented(_ dataset: MNISTDataset) -> MNISTDataset {
        var generator = RandomGenerator(seed: seed)
        let loader = DataLoader(
            dataset: dataset, batchSize: max(dataset.imageCount, 1), augmentation: augment ? .mnist : nil,
            elasticDistortion: elastic ? .mnist : nil)
        guard let batch = loader.epoch(generator: &generator).first else { return dataset }
        let bytes = batch.images.data.map { UInt8(min(max(($0 * 255).rounded(), 0), 255)) }
        return MNISTDataset(images: bytes, labels: dataset.labels, rows: dataset.rows, columns: dataset.columns)
    }
}

struct Download: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Download MNIST from torchvision's mirrors (needs internet); files already present and valid are kept.")

    @Option(help: ArgumentHelp("The folder to download into.", valueName: "dir"), completion: .directory)
    var to: String
    @Option(help: "Seconds a mirror may stay silent before the next one is tried (more than 0, at most 86400).")
    var timeout: Double = 30

    func validate() throws {
        // Foundation turns the timeout into whole milliseconds: NaN, infinity or 1e300 stop the program there.
        guard timeout > 0 && timeout <= 86_400 else {
            throw ValidationError("--timeout must be more than 0 and at most 86400 seconds, found \(timeout)")
        }
    }

    func run() throws {
        let results = try MNISTDownloader().download(to: URL(fileURLWithPath: to), timeout: timeout)
        for (file, outcome) in results {
            switch outcome {
            case .alreadyPresent: print("\(file.name): already present and valid")
            case .downloaded(let mirror): print("\(file.name): downloaded from \(mirror.absoluteString) and verified")
            }
        }
    }
}
