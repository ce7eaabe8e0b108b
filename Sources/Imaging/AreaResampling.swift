import Preconditions

/// Exact box-filter (area-averaging) resampling: each output pixel is the mean of the input area it covers,
/// counting fractions of partly covered input pixels. Shrinking a 1000-pixel drawing to 20 pixels this way
/// keeps every stroke (no aliasing) and preserves the total ink, scaled by the ratio of areas.
public enum AreaResampling {
    /// `values` (`width × height`, row-major) resampled to `newWidth × newHeight`; all sides at least 1.
    public static func resize(
        _ values: [Float], width: Int, height: Int, toWidth newWidth: Int, height newHeight: Int
    ) -> [Float] {
        checkPrecondition(
            width > 0 && height > 0 && newWidth > 0 && newHeight > 0,
            "sides must be positive, got \(width)×\(height) → \(newWidth)×\(newHeight)")
        checkPrecondition(
            values.count == width * height, "\(width)×\(height) needs \(width * height) values, got \(values.count)")
        let columns = coverage(from: width, to: newWidth)
        let rows = coverage(from: height, to: newHeight)

        // Rows first: height × newWidth.
        var horizontal = [Float](repeating: 0, count: height * newWidth)
        values.withUnsafeBufferPointer { source in
            horizontal.withUnsafeMutableBufferPointer { target in
                for row in 0..<height {
                    let base = row * width
                    for (column, weights) in columns.enumerated() {
                        var sum: Float = 0
                        for (index, weight) in weights { sum += source[base + index] * weight }
                        target[row * newWidth + column] = sum
                    }
                }
            }
        }
        // Then columns: newHeight × newWidth.
        var output = [Float](repeating: 0, count: newHeight * newWidth)
        horizontal.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                for (row, weights) in rows.enumerated() {
                    for (index, weight) in weights {
                        let sourceRow = index * newWidth
                        for column in 0..<newWidth {
                            target[row * newWidth + column] += source[sourceRow + column] * weight
                        }
                    }
                }
            }
        }
        return output
    }

    /// For each of `count` output pixels along one axis, the input pixels it covers and the share of its area
    /// each one makes (the shares sum to 1).
    static func coverage(from length: Int, to count: Int) -> [[(index: Int, weight: Float)]] {
        let scale = Double(length) / Double(count) // input pixels per output pixel
        return (0..<count).map { output in
            let start = Double(output) * scale
            let end = Double(output + 1) * scale
            var weights: [(index: Int, weight: Float)] = []
            var index = Int(start.rounded(.down))
            while Double(index) < end && index < length {
                let overlap = min(Double(index + 1), end) - max(Double(index), start)
                if overlap > 1e-12 { weights.append((index, Float(overlap / scale))) }
                index += 1
            }
            return weights
        }
    }
}
