import Autograd
import Kernels
import Testing

@testable import Datasets

@Suite struct DataLoaderTests {
    /// Ten 2×3 images; every pixel of image i is i, and its label is i too.
    let dataset = MNISTDataset(
        images: (0..<10).flatMap { [UInt8](repeating: UInt8($0), count: 6) }, labels: (0..<10).map(UInt8.init),
        rows: 2, columns: 3)

    /// The image indices of an epoch's batches, read back from the pixel values.
    func indices(_ epoch: DataLoader.Epoch) -> [[Int]] {
        epoch.map { images, labels in
            let fromPixels = (0..<labels.count).map { Int(images.data[$0 * 6] * 255 + 0.5) }
            #expect(fromPixels == labels.map(Int.init))
            return fromPixels
        }
    }

    @Test func batchesInOrderWithAPartialLastBatch() {
        let loader = DataLoader(dataset: dataset, batchSize: 4)
        #expect(loader.batchCount == 3)
        let epoch = loader.epoch()
        #expect(epoch.count == 3)
        #expect(epoch.map(\.images.shape) == [[4, 1, 2, 3], [4, 1, 2, 3], [2, 1, 2, 3]])
        #expect(epoch[2].labels == [8, 9])
        #expect(indices(epoch) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    }

    @Test func dropLastLeavesOutThePartialBatch() {
        let loader = DataLoader(dataset: dataset, batchSize: 4, dropLast: true)
        #expect(loader.batchCount == 2)
        #expect(indices(loader.epoch()) == [[0, 1, 2, 3], [4, 5, 6, 7]])
        #expect(DataLoader(dataset: dataset, batchSize: 5, dropLast: true).batchCount == 2)
        #expect(DataLoader(dataset: dataset, batchSize: 11, dropLast: true).batchCount == 0)
    }

    @Test func shufflingVisitsEveryImageOnceInANewOrderEachEpoch() {
        let loader = DataLoader(dataset: dataset, batchSize: 3, shuffle: true)
        var generator = RandomGenerator(seed: 42)
        let first = indices(loader.epoch(generator: &generator))
        let second = indices(loader.epoch(generator: &generator))
        #expect(first.map(\.count) == [3, 3, 3, 1])
        #expect(first.joined().sorted() == Array(0..<10))
        #expect(second.joined().sorted() == Array(0..<10))
        #expect(first != second)
    }

    @Test func theSameGeneratorStateGivesTheSameOrder() throws {
        let loader = DataLoader(dataset: dataset, batchSize: 3, shuffle: true)
        var generator = RandomGenerator(seed: 42)
        var twin = RandomGenerator(seed: 42)
        #expect(indices(loader.epoch(generator: &generator)) == indices(loader.epoch(generator: &twin)))

        var restored = try #require(RandomGenerator(state: generator.state))
        #expect(indices(loader.epoch(generator: &generator)) == indices(loader.epoch(generator: &restored)))
    }

    @Test func aLoaderThatDoesNotShuffleLeavesTheGeneratorAlone() {
        var generator = RandomGenerator(seed: 1)
        let before = generator
        let epoch = DataLoader(dataset: dataset, batchSize: 4).epoch(generator: &generator)
        #expect(generator == before)
        #expect(indices(epoch) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    }

    @Test func scalesAndNormalisesLikeToTensorAndNormalize() {
        let extremes = MNISTDataset(images: [0, 51, 255, 128], labels: [7], rows: 2, columns: 2)
        let scaled = DataLoader(dataset: extremes, batchSize: 1).epoch()[0].images.data
        #expect(scaled == [0, 0.2, 1, Float(128) / 255])

        let normalised = DataLoader(dataset: extremes, batchSize: 1, normalization: .mnist).epoch()[0].images.data
        let expected: [Float] = [0, 51, 255, 128].map { (Float($0) / 255 - 0.1307) / 0.3081 }
        #expect(normalised == expected)
        #expect(abs(normalised[0] - -0.424212917) < 1e-6)
        #expect(abs(normalised[2] - 2.821486528) < 1e-6)
    }

    @Test func theTrainingSetMakes938BatchesOf64() throws {
        let train = try Bundled.train.get()
        var generator = RandomGenerator(seed: 1)
        let loader = DataLoader(dataset: train, batchSize: 64, shuffle: true, normalization: .mnist)
        #expect(loader.batchCount == 938)
        let epoch = loader.epoch(generator: &generator)
        #expect(epoch[0].images.shape == [64, 1, 28, 28])
        #expect(epoch[937].images.shape == [32, 1, 28, 28])
        #expect(DataLoader(dataset: train, batchSize: 64, dropLast: true).batchCount == 937)
    }

    /// Sixteen 8×8 images with a bright bar at a different place in each, labels 0–9 over and over.
    let bars: MNISTDataset = {
        var images = [UInt8](repeating: 0, count: 16 * 64)
        for image in 0..<16 {
            let row = image % 6 + 1
            for column in 0..<8 { images[image * 64 + row * 8 + column] = UInt8(200 + image) }
        }
        return MNISTDataset(images: images, labels: (0..<16).map { UInt8($0 % 10) }, rows: 8, columns: 8)
    }()

    @Test func augmentationThatDrawsNoChangeGivesThePlainBatches() {
        let still = RandomAffine(maximumRotation: 0, scale: 1...1, maximumShift: 0)
        for normalization in [nil, DataLoader.Normalization.mnist] {
            var generator = RandomGenerator(seed: 3)
            var twin = RandomGenerator(seed: 3)
            let augmented = DataLoader(
                dataset: bars, batchSize: 5, shuffle: true, normalization: normalization, augmentation: still)
            let plain = DataLoader(dataset: bars, batchSize: 5, shuffle: true, normalization: normalization)
            let augmentedBatches = augmented.epoch(generator: &generator)
            let plainBatches = plain.epoch(generator: &twin)
            #expect(augmentedBatches.map(\.images.data) == plainBatches.map(\.images.data))
            #expect(augmentedBatches.map(\.labels) == plainBatches.map(\.labels))
        }
    }

    @Test func augmentedEpochsAreReproducibleAndDifferFromEachOther() throws {
        let loader = DataLoader(dataset: bars, batchSize: 4, shuffle: true, augmentation: .mnist)
        var generator = RandomGenerator(seed: 11)
        var restored = try #require(RandomGenerator(state: generator.state))
        let first = loader.epoch(generator: &generator)
        let again = loader.epoch(generator: &restored)
        #expect(first.map(\.images.data) == again.map(\.images.data))
        #expect(generator == restored)

        let second = loader.epoch(generator: &generator)
        #expect(first.map(\.images.data) != second.map(\.images.data))
        // Each image is transformed, not replaced: its label goes with it, and its ink stays in 0…1.
        let plainOrder = DataLoader(dataset: bars, batchSize: 4, shuffle: true)
        var orderOnly = RandomGenerator(seed: 11)
        #expect(first.map(\.labels) == plainOrder.epoch(generator: &orderOnly).map(\.labels))
        for batch in first {
            #expect(batch.images.data.allSatisfy { (0...1).contains($0) })
            #expect(batch.images.data.contains { $0 > 0.3 })
        }
    }

    @Test func aFixedTransformEpochIsThePlainEpochForTheIdentityAndShiftsEveryImageOtherwise() throws {
        for normalization in [nil, DataLoader.Normalization.mnist] {
            let loader = DataLoader(dataset: bars, batchSize: 5, normalization: normalization)
            #expect(loader.epoch(transformedBy: .identity).map(\.images.data) == loader.epoch().map(\.images.data))
            #expect(loader.epoch(transformedBy: .identity).map(\.labels) == loader.epoch().map(\.labels))
        }
        // One pixel right: each output pixel reads the source one column to its left; column 0 is background.
        let loader = DataLoader(dataset: bars, batchSize: 16)
        let right = AffineWarp.Matrix.rotation(degrees: 0, scale: 1, shiftX: 1, shiftY: 0, rows: 8, columns: 8)
        let plain = loader.epoch()[0].images.data, shifted = loader.epoch(transformedBy: right)[0].images.data
        for image in 0..<16 {
            for row in 0..<8 {
                let start = image * 64 + row * 8
                #expect(shifted[start] == 0)
                #expect(Array(shifted[(start + 1)..<(start + 8)]) == Array(plain[start..<(start + 7)]))
            }
        }
    }

    @Test func aDistortionOfZeroIntensityGivesTheUndistortedBatches() {
        let flat = ElasticDistortion(smoothing: 6, intensity: 0)
        for augmentation in [nil, RandomAffine.mnist] {
            var generator = RandomGenerator(seed: 4)
            var twin = RandomGenerator(seed: 4)
            let distorted = DataLoader(
                dataset: bars, batchSize: 5, shuffle: true, normalization: .mnist, augmentation: augmentation,
                elasticDistortion: flat)
            let undistorted = DataLoader(
                dataset: bars, batchSize: 5, shuffle: true, normalization: .mnist, augmentation: augmentation)
            let distortedBatches = distorted.epoch(generator: &generator)
            let undistortedBatches = undistorted.epoch(generator: &twin)
            #expect(distortedBatches.map(\.images.data) == undistortedBatches.map(\.images.data))
            #expect(distortedBatches.map(\.labels) == undistortedBatches.map(\.labels))
        }
    }

    @Test func distortedEpochsAreReproducibleAndMoveTheInk() throws {
        let loader = DataLoader(
            dataset: bars, batchSize: 4, shuffle: true, augmentation: .mnist, elasticDistortion: .mnist)
        var generator = RandomGenerator(seed: 12)
        var restored = try #require(RandomGenerator(state: generator.state))
        let first = loader.epoch(generator: &generator)
        #expect(first.map(\.images.data) == loader.epoch(generator: &restored).map(\.images.data))
        #expect(generator == restored)
        // The same orders and affine maps as without the distortion, the images changed, their ink in 0…1.
        var affineOnly = RandomGenerator(seed: 12)
        let undistorted = DataLoader(dataset: bars, batchSize: 4, shuffle: true, augmentation: .mnist)
            .epoch(generator: &affineOnly)
        #expect(first.map(\.labels) == undistorted.map(\.labels))
        for (batch, plain) in zip(first, undistorted) {
            #expect(batch.images.data != plain.images.data)
            #expect(batch.images.data.allSatisfy { (0...1).contains($0) })
            #expect(batch.images.data.contains { $0 > 0.3 })
        }
    }

    /// Each offset is α times a sum of independent uniforms (variance 1/3) weighted by taps[i] · taps[j]
    /// over the taps inside the image: its variance is α² / 3 · Σ (taps[i] · taps[j])², which 4,000
    /// draws measure to within a few percent (and the mean to within a few hundredths of a pixel).
    @Test func displacementsHaveTheVarianceTheirDefinitionGives() {
        let (rows, columns, draws) = (28, 28, 4000)
        let distortion = ElasticDistortion.mnist
        let taps = GaussianSmoothing.taps(standardDeviation: distortion.smoothing)
        let bands = distortion.smoothingBands(rows: rows, columns: columns)
        let radius = taps.count / 2
        var generator = RandomGenerator(seed: 9)
        var displacement = [Float](repeating: 0, count: 2 * rows * columns)
        var noise = [Float](repeating: 0, count: 2 * rows * columns)
        let pixels = [(14, 14), (3, 20), (0, 0)]
        var sums = [Double](repeating: 0, count: 2 * pixels.count)
        var squares = sums
        for _ in 0..<draws {
            noise.withUnsafeMutableBufferPointer { noise in
                distortion.draw(
                    rows: rows, columns: columns, generator: &generator, rowBand: bands.rowBand,
                    columnBand: bands.columnBand, displacement: &displacement, noise: noise.baseAddress!,
                    scratch: noise.baseAddress! + rows * columns)
            }
            for (index, (y, x)) in pixels.enumerated() {
                for field in 0..<2 {
                    let value = Double(displacement[field * rows * columns + y * columns + x])
                    sums[2 * index + field] += value
                    squares[2 * index + field] += value * value
                }
            }
        }
        for (index, (y, x)) in pixels.enumerated() {
            func inside(_ centre: Int, _ size: Int) -> Double {
                taps.indices.filter { (0..<size).contains(centre + $0 - radius) }.reduce(0.0) {
                    $0 + Double(taps[$1]) * Double(taps[$1])
                }
            }
            let alpha = Double(distortion.intensity)
            let expected = alpha * alpha / 3 * inside(y, rows) * inside(x, columns)
            for field in 0..<2 {
                let mean = sums[2 * index + field] / Double(draws)
                let variance = squares[2 * index + field] / Double(draws) - mean * mean
                #expect(abs(mean) < 0.1, "pixel (\(x), \(y)) field \(field): mean \(mean)")
                #expect(
                    abs(variance / expected - 1) < 0.1,
                    "pixel (\(x), \(y)) field \(field): variance \(variance), expected \(expected)")
            }
        }
        // About a pixel in the middle of the image, as the policy's documentation says.
        let centre = (squares[0] / Double(draws) - (sums[0] / Double(draws)) * (sums[0] / Double(draws))).squareRoot()
        #expect(centre > 0.8 && centre < 1.2, "standard deviation at the centre \(centre) pixels")
    }

    @Test func augmentationIsAppliedBeforeNormalisation() {
        var generator = RandomGenerator(seed: 5)
        var twin = RandomGenerator(seed: 5)
        let raw = DataLoader(dataset: bars, batchSize: 16, augmentation: .mnist).epoch(generator: &generator)[0]
        let normalised = DataLoader(dataset: bars, batchSize: 16, normalization: .mnist, augmentation: .mnist)
            .epoch(generator: &twin)[0]
        let expected = raw.images.data.map { ($0 - 0.1307) / 0.3081 }
        #expect(normalised.images.data == expected)
    }
}
