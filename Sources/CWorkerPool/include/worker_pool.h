#ifndef WORKER_POOL_H
#define WORKER_POOL_H

#include <stdbool.h>

/// One index's share of a parallel job: called as task(context, index).
typedef void (*worker_pool_task)(void *context, long index);

/// Runs task(context, index) for every index in 0..<count and returns after all have returned. Index 0 runs
/// on the calling thread; index i > 0 always runs on the pool's worker thread i (created on first use), so
/// the memory a part allocates stays with one thread from call to call. Workers wait for the next job by
/// spinning for a short while (about a millisecond, yielding the core now and then) before they sleep, so
/// back-to-back jobs, such as the training steps of a small network, do not pay for waking a sleeping thread
/// each time.
///
/// Returns false, having run nothing, when the pool is already running a job (a call from inside a task,
/// or from another thread at the same time) or a worker thread could not be started; the caller then runs
/// the indices itself.
bool worker_pool_run(long count, worker_pool_task task, void *context);

#endif
