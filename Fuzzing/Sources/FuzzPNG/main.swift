import FuzzingDriver
import Imaging

/// libFuzzer's entry point: decodes the input as a PNG (libpng, then the conversion to gray), and prepares a
/// decoded image as `mnist predict` does (crop, scale, centre of mass). Errors are expected; a trap, a crash,
/// a hang or runaway memory is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let image = try? PNGDecoder.decode(inputBytes(data, size)) else {
        return 0
    }
    _ = try? MNISTPreprocessing.prepare(image, file: "input")
    return 0
}

runLibFuzzer(fuzz)
