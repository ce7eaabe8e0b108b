import FuzzingDriver
import Datasets

/// libFuzzer's entry point: inflates inputs that start with the gzip magic number 1f 8b (through
/// `IDXFile(bytes:)`, the public way into the inflater), then parses the result as IDX. Other inputs are
/// skipped, so that the fuzzer spends its time on the inflater. Errors are expected; a trap, a crash, a hang
/// or runaway memory is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = inputBytes(data, size)
    guard bytes.starts(with: [0x1F, 0x8B]) else { return 0 }
    _ = try? IDXFile(bytes: bytes, fileName: "input")
    return 0
}

runLibFuzzer(fuzz)
