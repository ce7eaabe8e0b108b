import Autograd
import Kernels
import Preconditions

/// Batches of an `MNISTDataset` as tensors, like PyTorch's `DataLoader` with torchvision's `ToTensor` and
/// optional `Normalize`:
///
///     let trainLoader = DataLoader(dataset: train, batchSize: 64, shuffle: true, normalization: .mnist)
///     for epoch in 1...epochs {
///         for (images, labels) in trainLoader.epoch(generator: &generator) { … }
///     }
///
/// Each batch's images are `[B, 1, rows, columns]` Floats (byte / 255, then randomly transformed if the
/// loader augments, elastically distorted if it distorts, then normalised), its labels Int32.
public struct DataLoader: Sendable {
    /// The per-channel normalisation applied after scaling to [0, 1]: `(x - mean) / standardDeviation`.
    public struct Normalization: Sendable, Equatable {
        /// Subtracted from each value scaled to [0, 1].
        public var mean: Float
        /// What the difference is divided by.
        public var standardDeviation: Float

        /// A normalisation to `(x - mean) / standardDeviation`.
        public init(mean: Float, standardDeviation: Float) {
            self.mean = mean
            self.standardDeviation = standardDeviation
        }

        /// The MNIST training set's pixel mean and standard deviation, as in the PyTorch tutorial.
        public static let mnist = Normalization(mean: 0.1307, standardDeviation: 0.3081)
    }

    /// One batch: images `[B, 1, rows, columns]` and their labels.
    public typealias Batch = (images: Tensor, labels: [Int32])

    /// The images and labels batched.
    public let dataset: MNISTDataset
    /// The number of images per batch; the last batch may be smaller unless `dropLast`.
    public let batchSize: Int
    /// Whether each epoch visits the images in a new random order.
    public let shuffle: Bool
    /// Whether to leave out a last batch smaller than `batchSize`.
    public let dropLast: Bool
    /// Applied after scaling to [0, 1]; nil leaves values in [0, 1].
    public let normalization: Normalization?
    /// The random transform each image gets before normalisation, a new one every epoch; nil for none.
    public let augmentation: RandomAffine?
    /// The random elastic distortion each image gets on top of `augmentation`'s transform (or alone), a new
    /// one every epoch; nil for none.
    public let elasticDistortion: ElasticDistortion?

    /// The Float value of each byte value, scaled and normalised: building a batch is one lookup per pixel.
    private let pixelValues: [Float]
    /// `elasticDistortion`'s smoothing as matrices for this dataset's image size, made once (empty without it).
    private let smoothingBands: (rowBand: [Float], columnBand: [Float])

    /// A loader of `dataset` in batches of `batchSize` (positive), in a new random order each epoch if
    /// `shuffle`, without a last partial batch if `dropLast`, randomly transformed by `augmentation`,
    /// distorted by `elasticDistortion` and normalised if `normalization` is given.
    public init(
        dataset: MNISTDataset, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false,
        normalization: Normalization? = nil, augmentation: RandomAffine? = nil,
        elasticDistortion: ElasticDistortion? = nil
    ) {
        checkPrecondition(batchSize > 0, "batchSize must be positive, got \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.normalization = normalization
        self.augmentation = augmentation
        self.elasticDistortion = elasticDistortion
        smoothingBands =
            elasticDistortion?.smoothingBands(rows: dataset.rows, columns: dataset.columns)
            ?? (rowBand: [], columnBand: [])
        // Same float32 operations as ToTensor (divide by 255) then Normalize (subtract, divide).
        pixelValues = (0...255).map { byte in
            let scaled = Float(byte) / 255
            guard let normalization else { return scaled }
            return (scaled - normalization.mean) / normalization.standardDeviation
        }
    }

    /// The number of batches in an epoch.
    public var batchCount: Int {
        dropLast ? dataset.imageCount / batchSize : (dataset.imageCount + batchSize - 1) / batchSize
    }

    /// One pass over the dataset. A shuffling loader draws this epoch's order from `generator` — one
    /// permutation per call, so successive epochs differ and a generator restored from a saved `state`
    /// repeats the order — and an augmenting one then draws a transform for each position of the epoch,
    /// and a distorting one a seed for each position's displacement field (drawn from its own generator as
    /// the batch is built, so the fields do not depend on how the batch is split over the cores). A loader
    /// that does none of these leaves `generator` untouched.
    public func epoch(generator: inout RandomGenerator) -> Epoch {
        let order = shuffle ? generator.permutation(dataset.imageCount) : nil
        var transforms = augmentation.map { augmentation in
            (0..<dataset.imageCount).map { _ in
                augmentation.draw(rows: dataset.rows, columns: dataset.columns, generator: &generator)
            }
        }
        let distortionSeeds = elasticDistortion.map { _ in (0..<dataset.imageCount).map { _ in generator.next() } }
        if distortionSeeds != nil && transforms == nil {
            transforms = Array(repeating: .identity, count: dataset.imageCount)
        }
        return Epoch(loader: self, order: order, transforms: transforms, distortionSeeds: distortionSeeds)
    }

    /// One pass in dataset order, for a loader that neither shuffles nor augments (a test set).
    public func epoch() -> Epoch {
        checkPrecondition(
            !shuffle && augmentation == nil && elasticDistortion == nil,
            "a shuffling or augmenting DataLoader needs a generator: use epoch(generator:)")
        return Epoch(loader: self, order: nil, transforms: nil, distortionSeeds: nil)
    }

    /// One pass in dataset order with every image resampled through `transform` (background 0 outside),
    /// for a loader that neither shuffles nor augments: one view of a test set, as test-time augmentation
    /// averages several. The identity transform gives exactly the batches of `epoch()`.
    public func epoch(transformedBy transform: AffineWarp.Matrix) -> Epoch {
        checkPrecondition(
            !shuffle && augmentation == nil && elasticDistortion == nil,
            "a shuffling or augmenting DataLoader has its own order and transforms")
        return Epoch(
            loader: self, order: nil, transforms: Array(repeating: transform, count: dataset.imageCount),
            distortionSeeds: nil)
    }

    /// The batches of one epoch, built on access.
    public struct Epoch: RandomAccessCollection {
        let loader: DataLoader
        /// The dataset index at each position, or nil for dataset order.
        let order: [Int]?
        /// The transform of the image at each position, or nil for none.
        let transforms: [AffineWarp.Matrix]?
        /// The seed of the displacement field of the image at each position, or nil for none.
        let distortionSeeds: [UInt64]?

        /// 0, the first batch.
        public var startIndex: Int { 0 }
        /// The loader's `batchCount`, one past the last batch.
        public var endIndex: Int { loader.batchCount }

        /// Batch `position`, 0..<count.
        public subscript(position: Int) -> Batch {
            checkPrecondition(indices.contains(position), "batch \(position) out of 0..<\(count)")
            let start = position * loader.batchSize
            let end = Swift.min(start + loader.batchSize, loader.dataset.imageCount)
            return loader.makeBatch(
                (start..<end).map { order?[$0] ?? $0 }, transforms: transforms.map { Array($0[start..<end]) },
                distortionSeeds: distortionSeeds.map { Array($0[start..<end]) })
        }
    }

    private func makeBatch(_ indices: [Int], transforms: [AffineWarp.Matrix]?, distortionSeeds: [UInt64]?) -> Batch {
        let values =
            transforms.map { augmentedValues(indices, transforms: $0, distortionSeeds: distortionSeeds) }
            ?? values(indices)
        return (
            Tensor(shape: [indices.count, 1, dataset.rows, dataset.columns], data: values),
            indices.map { Int32(dataset.labels[$0]) }
        )
    }

    /// The images at `indices`, one table lookup per pixel; the images are split over the cores.
    private func values(_ indices: [Int]) -> [Float] {
        let size = dataset.pixelsPerImage
        return [Float](unsafeUninitializedCapacity: indices.count * size) { output, initialized in
            let output = output.baseAddress!
            dataset.images.withUnsafeBufferPointer { images in
                pixelValues.withUnsafeBufferPointer { pixelValues in
                    Parallel.forEachChunk(of: indices.count) { slots in
                        for slot in slots {
                            let source = indices[slot] * size
                            let target = slot * size
                            for offset in 0..<size {
                                output[target + offset] = pixelValues[Int(images[source + offset])]
                            }
                        }
                    }
                }
            }
            initialized = indices.count * size
        }
    }

    /// The images at `indices`, each scaled to [0, 1], resampled through its transform (moved by its
    /// displacement field when `distortionSeeds` are given; background 0 outside), then normalised; the
    /// images are split over the cores.
    private func augmentedValues(
        _ indices: [Int], transforms: [AffineWarp.Matrix], distortionSeeds: [UInt64]?
    ) -> [Float] {
        let (rows, columns, size) = (dataset.rows, dataset.columns, dataset.pixelsPerImage)
        return [Float](unsafeUninitializedCapacity: indices.count * size) { output, initialized in
            let output = output.baseAddress!
            dataset.images.withUnsafeBufferPointer { images in
                Parallel.forEachChunk(of: indices.count) { slots in
                    var scaled = [Float](repeating: 0, count: size)
                    // The displacement field [2, rows, columns], and the noise it is smoothed from.
                    var displacement = [Float](repeating: 0, count: distortionSeeds == nil ? 0 : 2 * size)
                    var noise = [Float](repeating: 0, count: distortionSeeds == nil ? 0 : 2 * size)
                    for slot in slots {
                        let source = indices[slot] * size
                        for offset in 0..<size { scaled[offset] = Float(images[source + offset]) / 255 }
                        let target = output + slot * size
                        if let distortionSeeds, let elasticDistortion {
                            var generator = RandomGenerator(seed: distortionSeeds[slot])
                            noise.withUnsafeMutableBufferPointer { noise in
                                elasticDistortion.draw(
                                    rows: rows, columns: columns, generator: &generator,
                                    rowBand: smoothingBands.rowBand, columnBand: smoothingBands.columnBand,
                                    displacement: &displacement,
                                    noise: noise.baseAddress!, scratch: noise.baseAddress! + size)
                            }
                        }
                        displacement.withUnsafeBufferPointer { displacement in
                            AffineWarp.bilinear(
                                source: scaled, output: target, rows: rows, columns: columns,
                                matrix: transforms[slot],
                                displacement: distortionSeeds == nil ? nil : displacement.baseAddress)
                        }
                        guard let normalization else { continue }
                        for offset in 0..<size {
                            target[offset] = (target[offset] - normalization.mean) / normalization.standardDeviation
                        }
                    }
                }
            }
            initialized = indices.count * size
        }
    }
}
