import FuzzingDriver
import NN

/// libFuzzer's entry point: decodes the input as a safetensors file (header JSON, data types, offsets).
/// Errors are expected; a trap, a crash, a hang or runaway memory is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = try? SafeTensors.decode(inputBytes(data, size), source: "input")
    return 0
}

runLibFuzzer(fuzz)
