import Preconditions

/// Turns a person's digit image into what an MNIST model expects, the way MNIST itself was made: "the
/// original black and white images from NIST were size normalized to fit in a 20×20 pixel box while
/// preserving their aspect ratio … anti-aliased … then centered in a 28×28 image by computing the center
/// of mass of the pixels, and translating the image so as to position this point at the center".
///
/// `prepare` does, in order:
/// 1. **Polarity.** The background is the median of the border pixels; the ink is whichever way the image
///    strays further from it (darker or lighter), so dark ink on paper and a white-on-black MNIST image both
///    work. Ink is measured from the background level, so gray paper counts as no ink.
/// 2. **Contrast and noise.** Ink is scaled so the strongest is 1. A noise floor measured on the border (five
///    robust standard deviations of the paper, plus 2 levels; at most `noiseThreshold` of the ink's strength)
///    is subtracted, so paper texture and speckle become 0 while a clean image is barely touched, and lone
///    inked pixels are dropped as dust. An image whose ink is within `minimumContrast` levels of its
///    background is blank and rejected.
/// 3. **Crop** to the bounding box of the remaining ink.
/// 4. **Scale** so the longer side is 20 pixels, keeping the aspect ratio, by exact area averaging
///    (`AreaResampling`), then stretch so the strongest pixel is 255 again (thin strokes drawn on a big
///    canvas would otherwise come out faint; MNIST's strokes reach 255).
/// 5. **Centre**: paste into 28×28 and shift by whole pixels so the centre of mass, in pixel-index
///    coordinates, lands at (14, 14) — within half a pixel. That is what MNIST did: its test digits' centres
///    of mass average (14.00, 13.99) with a spread of 0.29 px, the spread of rounding to whole pixels. Whole
///    pixels also keep the strokes as sharp as MNIST's; a sub-pixel shift would blur them.
public enum MNISTPreprocessing {
    /// The side of an MNIST image.
    public static let side = 28
    /// The side of the box the digit is scaled to fit.
    public static let boxSide = 20
    /// The centre of mass's target, in pixel-index coordinates (column, row).
    public static let centre = 14
    /// The most of the ink's strength that the noise floor may take (see `inkMap`).
    public static let noiseThreshold: Float = 0.4
    /// The least difference, in gray levels, between background and ink for an image not to be blank.
    public static let minimumContrast = 24

    /// 784 values (28×28, row-major) from 0 (background) to 255 (ink), white digit on black like MNIST,
    /// ready for `Predictor.predict(image:)`.
    /// - Throws: `ImageError.Problem.blank` (naming `file`) when the image has no ink.
    public static func prepare(_ image: GrayImage, file: String = "image") throws -> [Float] {
        try prepare(ink: inkMap(image, file: file), width: image.width, height: image.height, file: file)
    }

    /// Steps 3 to 5 alone, on an ink map (`width × height` values from 0, none, to 1, full) such as `inkMap`
    /// makes: the 784 values `prepare` returns.
    /// - Throws: `ImageError.Problem.blank` (naming `file`) when there is no ink.
    public static func prepare(ink: [Float], width: Int, height: Int, file: String = "image") throws -> [Float] {
        checkPrecondition(
            ink.count == width * height, "\(width)×\(height) needs \(width * height) values, got \(ink.count)")
        // Crop to the ink.
        var left = width, right = -1, top = height, bottom = -1
        ink.withUnsafeBufferPointer { ink in
            for y in 0..<height {
                for x in 0..<width where ink[y * width + x] > 0 {
                    left = min(left, x); right = max(right, x)
                    top = min(top, y); bottom = max(bottom, y)
                }
            }
        }
        guard right >= left else { throw ImageError(file: file, problem: .blank) }
        let cropWidth = right - left + 1, cropHeight = bottom - top + 1
        var cropped = [Float](repeating: 0, count: cropWidth * cropHeight)
        for y in 0..<cropHeight {
            let source = (top + y) * width + left
            cropped.replaceSubrange((y * cropWidth)..<((y + 1) * cropWidth), with: ink[source..<(source + cropWidth)])
        }

        // Fit the longer side to the box.
        let longer = max(cropWidth, cropHeight)
        let boxWidth = max(1, Int((Double(cropWidth * boxSide) / Double(longer)).rounded()))
        let boxHeight = max(1, Int((Double(cropHeight * boxSide) / Double(longer)).rounded()))
        var digit = AreaResampling.resize(
            cropped, width: cropWidth, height: cropHeight, toWidth: boxWidth, height: boxHeight)
        let strongest = digit.max() ?? 0
        guard strongest > 0 else { throw ImageError(file: file, problem: .blank) }
        digit = digit.map { $0 / strongest }

        // Centre of mass within the box, then the whole-pixel offset that puts it at (14, 14).
        var mass: Double = 0, sumX: Double = 0, sumY: Double = 0
        for y in 0..<boxHeight {
            for x in 0..<boxWidth {
                let value = Double(digit[y * boxWidth + x])
                mass += value; sumX += value * Double(x); sumY += value * Double(y)
            }
        }
        let offsetX = Int((Double(centre) - sumX / mass).rounded())
        let offsetY = Int((Double(centre) - sumY / mass).rounded())

        var output = [Float](repeating: 0, count: side * side)
        for y in 0..<boxHeight {
            let row = y + offsetY
            guard (0..<side).contains(row) else { continue }
            for x in 0..<boxWidth {
                let column = x + offsetX
                guard (0..<side).contains(column) else { continue }
                output[row * side + column] = digit[y * boxWidth + x] * 255
            }
        }
        return output
    }

    /// The image's ink from 0 (background or noise) to 1 (strongest), one value a pixel: steps 1 and 2 above.
    /// - Throws: `ImageError.Problem.blank` when no ink stands out from the background.
    public static func inkMap(_ image: GrayImage, file: String = "image") throws -> [Float] {
        guard image.width > 0, image.height > 0 else { throw ImageError(file: file, problem: .blank) }
        let border = borderPixels(image).sorted()
        let background = Int(border[(border.count - 1) / 2])
        let darkest = Int(image.pixels.min() ?? 0), lightest = Int(image.pixels.max() ?? 0)
        let darkInk = background - darkest >= lightest - background
        let contrast = darkInk ? background - darkest : lightest - background
        guard contrast >= minimumContrast else { throw ImageError(file: file, problem: .blank) }

        // The paper's own variation, from the border: a robust standard deviation (1.4826 × the median
        // absolute deviation). Ink must stand 5 of them (and 2 levels) above the background to count, so
        // even a large textured page leaves no stray noise pixel to stretch the bounding box.
        let deviations = border.map { abs(Int($0) - background) }.sorted()
        let sigma = 1.4826 * Float(deviations[(deviations.count - 1) / 2])
        let threshold = min(Float(contrast) * noiseThreshold, 5 * sigma + 2)
        let scale = 1 / (Float(contrast) - threshold)
        let width = image.width, height = image.height
        var ink = [Float](repeating: 0, count: width * height)
        image.pixels.withUnsafeBufferPointer { pixels in
            ink.withUnsafeMutableBufferPointer { ink in
                let sign = darkInk ? -1 : 1
                for index in 0..<pixels.count {
                    let strength = Float(sign * (Int(pixels[index]) - background))
                    ink[index] = min(1, max(0, (strength - threshold) * scale))
                }
                // Lone specks (no inked neighbour left, right, above or below) are dust, not ink. Judged on the
                // map before any speck is removed, so the result does not depend on the scanning order.
                var isolated: [Int] = []
                for y in 0..<height {
                    for x in 0..<width where ink[y * width + x] > 0 {
                        let index = y * width + x
                        if !((x > 0 && ink[index - 1] > 0) || (x + 1 < width && ink[index + 1] > 0)
                            || (y > 0 && ink[index - width] > 0) || (y + 1 < height && ink[index + width] > 0))
                        {
                            isolated.append(index)
                        }
                    }
                }
                for index in isolated { ink[index] = 0 }
            }
        }
        return ink
    }

    /// `values` squashed to 28×28 by area averaging, ignoring the aspect ratio, with no cropping or centring:
    /// the naive alternative to `prepare` (after `inkMap`), for comparison. Values stay in the same range.
    public static func squash(_ values: [Float], width: Int, height: Int) -> [Float] {
        AreaResampling.resize(values, width: width, height: height, toWidth: side, height: side)
    }

    /// The gray levels of the outermost rows and columns, each pixel once.
    static func borderPixels(_ image: GrayImage) -> [UInt8] {
        var pixels: [UInt8] = []
        pixels.reserveCapacity(2 * (image.width + image.height))
        for y in 0..<image.height {
            if y == 0 || y == image.height - 1 {
                pixels += image.pixels[(y * image.width)..<((y + 1) * image.width)]
            } else {
                pixels.append(image[0, y])
                if image.width > 1 { pixels.append(image[image.width - 1, y]) }
            }
        }
        return pixels
    }
}
