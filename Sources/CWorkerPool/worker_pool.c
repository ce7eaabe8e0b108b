#include "worker_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

/// More workers than any machine this runs on has cores; a larger count gets false (run serially).
enum { maximum_workers = 1023 };

/// How long a thread spins on an atomic before it sleeps, in nanoseconds: longer than the serial work between
/// two training steps (the optimizer, the next batch), far shorter than anything a person would notice.
static const long spin_nanoseconds = 1000000;

/// One worker thread: `generation` counts the jobs it was handed; it sleeps on `condition` only after setting
/// `sleeping`, and whoever hands it a job after raising `generation` checks `sleeping` (both sequentially
/// consistent, so at least one of the two sees the other's write and no wake-up is lost).
typedef struct {
    pthread_t thread;
    long index;
    atomic_ulong generation;
    atomic_bool sleeping;
    pthread_mutex_t mutex;
    pthread_cond_t condition;
} worker;

static worker workers[maximum_workers];
static long started_workers;
static pthread_mutex_t start_mutex = PTHREAD_MUTEX_INITIALIZER;

/// Set while a job runs: a second caller gets false instead of waiting.
static atomic_bool busy;

/// The job being run, written before the workers' generations are raised (which publishes it).
static worker_pool_task job_task;
static void *job_context;

/// How many workers have not finished the job; the caller sleeps on `done_condition` (after setting
/// `caller_sleeping`) only when the job outlasts its spin.
static atomic_long unfinished;
static atomic_bool caller_sleeping;
static pthread_mutex_t done_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_condition = PTHREAD_COND_INITIALIZER;

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static long now_nanoseconds(void) {
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return time.tv_sec * 1000000000L + time.tv_nsec;
}

/// A bounded spin: `spin_again` pauses once and says whether to go on, false once the spin has lasted
/// `spin_nanoseconds`. Every 256 pauses it lets another thread have the core if one is waiting for it: with
/// more threads than cores (`--threads 8` on two), a spinning thread would otherwise hold a core the job needs.
typedef struct {
    unsigned iteration;
    long deadline;
} spin;

static bool spin_again(spin *state) {
    relax();
    if (++state->iteration % 256 != 0) return true;
    sched_yield();
    long now = now_nanoseconds();
    if (state->deadline == 0) state->deadline = now + spin_nanoseconds;
    return now <= state->deadline;
}

static void *worker_main(void *argument) {
    worker *self = argument;
    unsigned long seen = 0;
    for (;;) {
        unsigned long generation;
        spin state = {0, 0};
        while ((generation = atomic_load_explicit(&self->generation, memory_order_acquire)) == seen
               && spin_again(&state)) {
        }
        if (generation == seen) {
            pthread_mutex_lock(&self->mutex);
            atomic_store(&self->sleeping, true);
            while ((generation = atomic_load(&self->generation)) == seen) {
                pthread_cond_wait(&self->condition, &self->mutex);
            }
            atomic_store(&self->sleeping, false);
            pthread_mutex_unlock(&self->mutex);
        }
        seen = generation;
        job_task(job_context, self->index);
        if (atomic_fetch_sub(&unfinished, 1) == 1 && atomic_load(&caller_sleeping)) {
            pthread_mutex_lock(&done_mutex);
            pthread_cond_signal(&done_condition);
            pthread_mutex_unlock(&done_mutex);
        }
    }
    return 0;
}

/// Starts workers until there are `count` of them; false if the system refused a thread.
static bool start_workers(long count) {
    pthread_mutex_lock(&start_mutex);
    bool started = true;
    while (started_workers < count) {
        worker *new_worker = &workers[started_workers];
        new_worker->index = started_workers + 1;
        atomic_init(&new_worker->generation, 0);
        atomic_init(&new_worker->sleeping, false);
        pthread_mutex_init(&new_worker->mutex, 0);
        pthread_cond_init(&new_worker->condition, 0);
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        // Linux's default for a program's main thread, whatever the platform's default for others.
        pthread_attr_setstacksize(&attributes, 8 << 20);
        started = pthread_create(&new_worker->thread, &attributes, worker_main, new_worker) == 0;
        pthread_attr_destroy(&attributes);
        if (!started) break;
        started_workers++;
    }
    pthread_mutex_unlock(&start_mutex);
    return started;
}

/// A child process has only the thread that forked: the pool starts its workers again when next used.
static void forget_workers_in_child(void) {
    started_workers = 0;
    atomic_store(&busy, false);
    pthread_mutex_init(&start_mutex, 0);
    pthread_mutex_init(&done_mutex, 0);
    pthread_cond_init(&done_condition, 0);
}

static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;
static void install_fork_handler(void) { pthread_atfork(0, 0, forget_workers_in_child); }

bool worker_pool_run(long count, worker_pool_task task, void *context) {
    if (count <= 1) {
        if (count == 1) task(context, 0);
        return true;
    }
    if (count - 1 > maximum_workers) return false;
    pthread_once(&fork_handler_once, install_fork_handler);
    if (atomic_exchange(&busy, true)) return false;
    if (!start_workers(count - 1)) {
        atomic_store(&busy, false);
        return false;
    }
    job_task = task;
    job_context = context;
    atomic_store(&unfinished, count - 1);
    for (long index = 0; index < count - 1; index++) {
        worker *target = &workers[index];
        atomic_fetch_add(&target->generation, 1);
        if (atomic_load(&target->sleeping)) {
            pthread_mutex_lock(&target->mutex);
            pthread_cond_signal(&target->condition);
            pthread_mutex_unlock(&target->mutex);
        }
    }
    task(context, 0);

    spin state = {0, 0};
    while (atomic_load_explicit(&unfinished, memory_order_acquire) != 0 && spin_again(&state)) {
    }
    if (atomic_load(&unfinished) != 0) {
        pthread_mutex_lock(&done_mutex);
        atomic_store(&caller_sleeping, true);
        while (atomic_load(&unfinished) != 0) pthread_cond_wait(&done_condition, &done_mutex);
        atomic_store(&caller_sleeping, false);
        pthread_mutex_unlock(&done_mutex);
    }
    atomic_store(&busy, false);
    return true;
}
