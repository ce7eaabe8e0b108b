// libFuzzer's driver, linked by `-sanitize=fuzzer` (clang_rt.fuzzer): runs the fuzzing loop, or the inputs
// named on the command line, with libFuzzer's options, calling `callback` once per input.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
