// What the tests need from the C library that Swift's Glibc module leaves out (GNU extensions).
#ifndef MNIST_TEST_SUPPORT_H
#define MNIST_TEST_SUPPORT_H

/// Restricts the calling thread to the CPU it is running on (as `taskset -c` restricts a process), for
/// good. Returns 0, or -1 where that fails or is not possible (not Linux).
int test_support_pin_calling_thread(void);

#endif
