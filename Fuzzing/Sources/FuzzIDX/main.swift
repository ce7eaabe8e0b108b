import FuzzingDriver
import Datasets

/// libFuzzer's entry point: parses the input as an IDX file (raw, or gzip when it starts with 1f 8b) with
/// any number of dimensions. Errors are expected; a trap, a crash, a hang or runaway memory is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = try? IDXFile(bytes: inputBytes(data, size), fileName: "input")
    return 0
}

runLibFuzzer(fuzz)
