/// μ₁₁ / μ₀₂ of an image's ink, in Double: how far its columns drift per row, the slope deskewing removes.
/// image: [rows × columns] row-major, intensities ≥ 0 with some ink off a single row.
public func inkSlant(_ image: [Double], columns: Int) -> Double {
    var (total, sumX, sumY) = (0.0, 0.0, 0.0)
    for index in image.indices {
        let (x, y, value) = (Double(index % columns), Double(index / columns), image[index])
        (total, sumX, sumY) = (total + value, sumX + value * x, sumY + value * y)
    }
    let (meanX, meanY) = (sumX / total, sumY / total)
    var (covariance, rowVariance) = (0.0, 0.0)
    for index in image.indices {
        let (dx, dy) = (Double(index % columns) - meanX, Double(index / columns) - meanY)
        covariance += image[index] * dx * dy
        rowVariance += image[index] * dy * dy
    }
    return covariance / rowVariance
}
