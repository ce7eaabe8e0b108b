import Imaging
import TestSupport
import Testing

@Suite struct PreprocessingTests {
    /// An asymmetric shape (an "L" with a dot) so centring by mass differs from centring the box.
    static func lShape(_ x: Int, _ y: Int, left: Int, top: Int, scale: Int = 10) -> Bool {
        let u = x - left, v = y - top
        let column = u / scale, row = v / scale // a 7 × 12 grid of cells
        guard u >= 0, v >= 0, column < 7, row < 12 else { return false }
        return (column < 2 && row < 12) || (row >= 10 && column < 7) || (column == 5 && row == 3)
    }

    @Test func aCentredSquareLandsCentredWithSide20() throws {
        let image = GrayImage.drawing(width: 600, height: 400) { x, y in
            (270..<330).contains(x) && (170..<230).contains(y)
        }
        let ready = try MNISTPreprocessing.prepare(image)
        #expect(ready.count == 784)
        let box = inkBox(ready)
        #expect(box.right - box.left + 1 == 20 && box.bottom - box.top + 1 == 20)
        #expect(Set(ready.filter { $0 > 0 }) == [255], "a square scaled by a whole factor stays solid")
        let centre = centreOfMass(ready)
        #expect(abs(centre.x - 14) <= 0.5 && abs(centre.y - 14) <= 0.5, "\(centre)")
    }

    @Test func theLongerSideBecomes20KeepingTheAspectRatio() throws {
        let tall = GrayImage.drawing(width: 500, height: 500) { x, y in
            (100..<130).contains(x) && (50..<140).contains(y)
        }
        let box = inkBox(try MNISTPreprocessing.prepare(tall))
        #expect(box.bottom - box.top + 1 == 20)
        #expect(box.right - box.left + 1 == 7) // 30 × 20 / 90 = 6.7
        let wide = GrayImage.drawing(width: 2000, height: 300) { x, y in
            (100..<1100).contains(x) && (10..<260).contains(y)
        }
        let wideBox = inkBox(try MNISTPreprocessing.prepare(wide))
        #expect(wideBox.right - wideBox.left + 1 == 20 && wideBox.bottom - wideBox.top + 1 == 5)
    }

    /// Wherever the digit sits in the frame, the result is the same and its centre of mass is within half a
    /// pixel of (14, 14).
    @Test func anOffCentreDigitIsRecentredByMass() throws {
        var results: [[Float]] = []
        for (left, top) in [(5, 5), (300, 20), (40, 160), (310, 170)] {
            let image = GrayImage.drawing(width: 400, height: 300) { Self.lShape($0, $1, left: left, top: top) }
            let ready = try MNISTPreprocessing.prepare(image)
            let centre = centreOfMass(ready)
            #expect(
                abs(centre.x - 14) <= 0.5 && abs(centre.y - 14) <= 0.5, "\(centre) for the shape at (\(left), \(top))")
            results.append(ready)
        }
        #expect(results.allSatisfy { $0 == results[0] })
        // The shape's box is not centred: its mass is further left and lower than its middle.
        let box = inkBox(results[0])
        #expect(Double(box.left + box.right) / 2 > 14.5)
    }

    @Test func darkOnLightAndLightOnDarkGiveTheSameDigit() throws {
        let dark = GrayImage.drawing(width: 200, height: 200) { Self.lShape($0, $1, left: 60, top: 30) }
        let light = GrayImage(width: 200, height: 200, pixels: dark.pixels.map { 255 - $0 })
        let grayPaper = GrayImage(width: 200, height: 200, pixels: dark.pixels.map { $0 == 255 ? 200 : 30 })
        let expected = try MNISTPreprocessing.prepare(dark)
        #expect(try MNISTPreprocessing.prepare(light) == expected)
        #expect(try MNISTPreprocessing.prepare(grayPaper) == expected)
        #expect(expected.max() == 255 && expected.filter { $0 > 0 }.count > 40)
    }

    /// Paper texture (noise of a few levels) does not stretch the crop or leave a haze.
    @Test func paperNoiseIsIgnored() throws {
        var generator = SplitMix64(seed: 3)
        let clean = GrayImage.drawing(width: 400, height: 300) { Self.lShape($0, $1, left: 150, top: 90) }
        var noisy = clean
        for index in noisy.pixels.indices {
            let noise = Int.random(in: -12...12, using: &generator)
            noisy.pixels[index] = UInt8(clamping: Int(noisy.pixels[index] == 255 ? 235 : 20) + noise)
        }
        noisy[3, 4] = 0 // a speck of dust
        let expected = try MNISTPreprocessing.prepare(clean)
        let ready = try MNISTPreprocessing.prepare(noisy)
        #expect(inkBox(ready) == inkBox(expected))
        expectClose(ready, expected, absolute: 40)
    }

    /// A 28×28 MNIST-like digit (longer side already 20, centred by mass) comes back nearly unchanged.
    @Test func anMNISTStyleDigitIsNearlyUnchanged() throws {
        var values = [Float](repeating: 0, count: 784)
        // Columns 11–17, rows 4–23, centre of mass (14, 13.6): the whole-pixel shift is 0.
        for y in 4..<24 {
            for x in 12..<17 { values[y * 28 + x] = y == 4 ? 100 : 255 }
            values[y * 28 + 11] = 100
            values[y * 28 + 17] = 100
        }
        let image = GrayImage(width: 28, height: 28, pixels: values.map { UInt8($0) })
        let ready = try MNISTPreprocessing.prepare(image)
        expectClose(ready, values, absolute: 4)
    }

    @Test func areaAveragingPreservesTotalInk() {
        var generator = SplitMix64(seed: 11)
        let width = 1000, height = 613
        let values = (0..<(width * height)).map { _ in Float.random(in: 0...1, using: &generator) }
        for (newWidth, newHeight) in [(20, 13), (20, 20), (7, 1), (1000, 613), (1500, 700)] {
            let resized = AreaResampling.resize(
                values, width: width, height: height, toWidth: newWidth, height: newHeight)
            let before = values.reduce(0.0) { $0 + Double($1) }
            let after = resized.reduce(0.0) { $0 + Double($1) } * Double(width * height) / Double(newWidth * newHeight)
            #expect(abs(after - before) / before < 1e-4, "\(newWidth)×\(newHeight): \(before) → \(after)")
        }
        // A one-pixel line in a 1000-pixel drawing survives as 1/50 of a pixel of ink per output pixel, not 0
        // (point sampling would hit it in 1 of 50 rows) or 1.
        var line = [Float](repeating: 0, count: 1000 * 1000)
        for x in 0..<1000 { line[333 * 1000 + x] = 1 }
        let small = AreaResampling.resize(line, width: 1000, height: 1000, toWidth: 20, height: 20)
        #expect(abs(small[6 * 20 + 3] - 0.02) < 1e-6 && small.filter { $0 > 0 }.count == 20)
        // Exact for whole factors: a 2×2 block of four values becomes their mean.
        #expect(AreaResampling.resize([0, 1, 2, 3], width: 2, height: 2, toWidth: 1, height: 1) == [1.5])
    }

    /// A thin stroke on a big canvas still reaches full strength after scaling.
    @Test func thinStrokesOnABigCanvasAreNotFaint() throws {
        let image = GrayImage.drawing(width: 1200, height: 1200) { x, y in
            (200..<1000).contains(y) && (x == 600 || x == 601) || (y == 200 && (450..<600).contains(x))
        }
        let ready = try MNISTPreprocessing.prepare(image)
        #expect(ready.max() == 255)
        #expect(inkBox(ready).bottom - inkBox(ready).top + 1 == 20)
    }
}
