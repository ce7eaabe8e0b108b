import Kernels

/// Deskewing: every digit sheared upright before a model sees it (`AffineWarp.Matrix.deskewing`), the
/// preprocessing of LeCun et al.'s "deskewed" MNIST entries and one of Cireşan et al.'s committee columns. A
/// model trained on deskewed digits reads slanted handwriting as upright, and its mistakes differ from those
/// of a model trained on the digits as written, which is what a committee needs.
///
/// The sheared image is resampled bilinearly and rounded to whole grey levels, so a deskewed dataset is
/// bytes again and a 28×28 image given as whole levels 0–255 deskews to exactly the dataset's bytes.
public enum Deskewing {
    /// `image` ([rows × columns] row-major, 0 background to 255 ink) with its digit sheared upright, each
    /// value rounded to a whole level in 0…255.
    public static func deskewed(_ image: [Float], rows: Int, columns: Int) -> [Float] {
        precondition(
            image.count == rows * columns, "a \(rows)×\(columns) image has \(rows * columns) pixels, got \(image.count)"
        )
        var output = [Float](repeating: 0, count: image.count)
        image.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { output in
                deskew(source: source.baseAddress!, output: output.baseAddress!, rows: rows, columns: columns)
            }
        }
        return output
    }

    /// output = `source` deskewed and rounded (see `deskewed(_:rows:columns:)`). source, output: [rows,
    /// columns], values 0–255, distinct buffers.
    static func deskew(source: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        let matrix = AffineWarp.Matrix.deskewing(source: source, rows: rows, columns: columns)
        AffineWarp.bilinear(source: source, output: output, rows: rows, columns: columns, matrix: matrix)
        for index in 0..<(rows * columns) {
            output[index] = min(max(output[index].rounded(), 0), 255)
        }
    }
}

extension MNISTDataset {
    /// The same images with every digit sheared upright (`Deskewing`), and the same labels; the images
    /// are split over the cores.
    public func deskewed() -> MNISTDataset {
        let size = pixelsPerImage
        let deskewedImages = [UInt8](unsafeUninitializedCapacity: images.count) { output, initialized in
            let output = output.baseAddress!
            images.withUnsafeBufferPointer { images in
                Parallel.forEachChunk(of: imageCount) { indices in
                    var source = [Float](repeating: 0, count: size)
                    var sheared = [Float](repeating: 0, count: size)
                    for index in indices {
                        for offset in 0..<size { source[offset] = Float(images[index * size + offset]) }
                        Deskewing.deskew(source: source, output: &sheared, rows: rows, columns: columns)
                        for offset in 0..<size { output[index * size + offset] = UInt8(sheared[offset]) }
                    }
                }
            }
            initialized = images.count
        }
        return MNISTDataset(images: deskewedImages, labels: labels, rows: rows, columns: columns)
    }
}
