import Autograd
import Kernels
import Preconditions

/// Random rotations, scalings and shifts of training images, like torchvision's `RandomAffine` with
/// bilinear interpolation: each image of each epoch is drawn a new transform, so the model never sees the
/// same picture twice and learns digits written a little tilted, larger, smaller or off-centre, as
/// people's are. Pixels the transform brings in from outside the image are background (0).
///
///     let loader = DataLoader(dataset: train, batchSize: 64, shuffle: true, augmentation: .mnist)
public struct RandomAffine: Codable, Equatable, Sendable {
    /// Rotations are drawn uniformly from −maximumRotation…maximumRotation degrees.
    public var maximumRotation: Float
    /// Scale factors are drawn uniformly from this range (1 keeps the size).
    public var scale: ClosedRange<Float>
    /// Shifts are drawn uniformly from −maximumShift…maximumShift of the image's width (horizontally) and
    /// height (vertically).
    public var maximumShift: Float

    /// A policy drawing rotations up to `maximumRotation` degrees either way, scale factors in `scale` and
    /// shifts up to `maximumShift` of the image's side either way.
    public init(maximumRotation: Float, scale: ClosedRange<Float>, maximumShift: Float) {
        checkPrecondition(
            maximumRotation >= 0 && maximumShift >= 0 && scale.lowerBound > 0, "invalid augmentation ranges")
        self.maximumRotation = maximumRotation
        self.scale = scale
        self.maximumShift = maximumShift
    }

    /// The `mnist train --augment` policy: rotations up to ±15°, scalings of 85–115% and shifts up to ±10%
    /// (2.8 pixels), the ranges the best-documented single MNIST network trains with
    /// (cdeotte/MNIST-CNN-99.75, 99.65% on average).
    public static let mnist = RandomAffine(maximumRotation: 15, scale: 0.85...1.15, maximumShift: 0.1)

    /// One transform for an image of `rows` × `columns`, drawing four uniforms from `generator` (angle,
    /// scale, horizontal and vertical shift, in that order).
    public func draw(rows: Int, columns: Int, generator: inout RandomGenerator) -> AffineWarp.Matrix {
        let degrees = generator.nextUniform(low: -maximumRotation, high: maximumRotation)
        let scaleFactor = generator.nextUniform(low: scale.lowerBound, high: scale.upperBound)
        let shiftX = generator.nextUniform(low: -maximumShift, high: maximumShift) * Float(columns)
        let shiftY = generator.nextUniform(low: -maximumShift, high: maximumShift) * Float(rows)
        return .rotation(
            degrees: degrees, scale: scaleFactor, shiftX: shiftX, shiftY: shiftY, rows: rows, columns: columns)
    }
}

/// Elastic distortions (Simard, Steinkraus and Platt, 2003), on top of `RandomAffine`'s transforms: every
/// pixel is read from a little off where the affine map puts it, the offsets a random field (a uniform
/// −1…1 draw per pixel and direction) smoothed by a Gaussian and scaled, so nearby strokes bend together, as
/// a pen's do. `mnist data --augment --elastic --png grid.png` shows what the model sees.
public struct ElasticDistortion: Codable, Equatable, Sendable {
    /// The smoothing Gaussian's standard deviation σ, in pixels: how far apart parts of a digit move
    /// independently.
    public var smoothing: Float
    /// α, in pixels: the smoothed field is multiplied by this.
    public var intensity: Float

    /// A distortion smoothing by `smoothing` (positive) pixels and scaling by `intensity` (≥ 0).
    public init(smoothing: Float, intensity: Float) {
        checkPrecondition(smoothing > 0 && intensity >= 0, "invalid elastic distortion parameters")
        self.smoothing = smoothing
        self.intensity = intensity
    }

    /// The `mnist train --elastic` distortion: σ = 6 and α = 36, Cireşan et al.'s (2011) for MNIST, beside
    /// rotations and scalings like `RandomAffine.mnist`'s. The offsets' standard deviation is about one pixel.
    public static let mnist = ElasticDistortion(smoothing: 6, intensity: 36)

    /// The smoothing along columns and along rows of an image of `rows` × `columns` as matrices
    /// (`GaussianSmoothing.band`), which `draw` takes: [rows, rows] and [columns, columns].
    public func smoothingBands(rows: Int, columns: Int) -> (rowBand: [Float], columnBand: [Float]) {
        let taps = GaussianSmoothing.taps(standardDeviation: smoothing)
        return (GaussianSmoothing.band(taps: taps, size: rows), GaussianSmoothing.band(taps: taps, size: columns))
    }

    /// Fills `displacement` with one field for an image of `rows` × `columns`, drawing 2 · rows · columns
    /// uniforms from `generator` (the horizontal field's, then the vertical one's, row by row).
    ///
    /// displacement: [2, rows, columns]; noise, scratch: [rows, columns]; rowBand, columnBand: the
    /// `smoothingBands` of `rows` × `columns`.
    public func draw(
        rows: Int, columns: Int, generator: inout RandomGenerator, rowBand: UnsafePointer<Float>,
        columnBand: UnsafePointer<Float>, displacement: UnsafeMutablePointer<Float>,
        noise: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        let size = rows * columns
        for field in 0..<2 {
            for offset in 0..<size { noise[offset] = generator.nextUniform(low: -1, high: 1) }
            let target = displacement + field * size
            GaussianSmoothing.smooth(
                plane: noise, output: target, scratch: scratch, rows: rows, columns: columns, rowBand: rowBand,
                columnBand: columnBand)
            for offset in 0..<size { target[offset] *= intensity }
        }
    }
}
