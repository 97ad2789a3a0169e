/*
 * _plqueue: the simulated PL's data work, run by a C thread that never needs the GIL.
 *
 * Everything the simulated PL does to data is known when the PS triggers it: copy these bytes
 * (a DMA), call this kernel's bridge with these pointers (an HLS kernel).  The Python models
 * describe such a job as a list of operations and queue it here; a pthread runs the jobs one
 * after another, in order, while the notebook's Python goes on -- the PL really runs
 * concurrently with the PS, on the other core, and no Python code on either side waits for
 * the other's GIL.
 *
 * A status read that needs a job finished calls run_until(): the calling thread runs the
 * queued jobs itself (GIL released) if the worker has not started them, or waits for the
 * worker.  Jobs still run strictly one at a time, in order.
 *
 * Both sides spin briefly before they sleep (SPIN_NS): the PS queues the jobs of one transfer
 * microseconds apart, and waking a sleeping thread costs tens of microseconds on a virtual
 * machine -- as long as a 100 MHz PL takes to move a few thousand words, so the simulation
 * would fall behind the board it models.
 *
 * Operations:
 *   (0, dst, src, nbytes)       memcpy
 *   (1, fn, (a0, a1, ...))      long fn(const uint64_t *args): a kernel bridge's task entry;
 *                               a negative return is kept as the job's result (an error code)
 *
 * Python keeps the arrays behind the pointers alive until the job is done.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OP_MEMCPY 0
#define OP_CALL 1
#define MAX_CALL_ARGS 16
#define RESULT_RING 65536 /* results of the last this-many jobs stay readable */
#define SPIN_NS 300000LL  /* how long a thread polls for new work (or a job's end) before it sleeps */

#if defined(__x86_64__) || defined(__i386__)
#define CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__) || defined(__arm__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

typedef long (*task_fn)(const uint64_t *args);

typedef struct {
    int kind;
    void *dst;
    const void *src;
    size_t nbytes;
    task_fn fn;
    uint64_t args[MAX_CALL_ARGS];
} Op;

typedef struct Job {
    long long id;
    Py_ssize_t nops;
    Op *ops;
    struct Job *next;
} Job;

typedef struct {
    PyObject_HEAD
    pthread_mutex_t lock;
    pthread_cond_t changed; /* a job was queued, finished, or the queue is closing */
    pthread_t thread;
    int thread_started;
    int closing;
    int running; /* a job is being run by someone */
    Job *head, *tail;
    long long next_id;   /* id the next submitted job gets */
    long long done_upto; /* every job with id <= this has finished; read without the lock (atomic) */
    long queued;         /* jobs in the list, not yet taken; written under the lock, read without it */
    long results[RESULT_RING];
} QueueObject;

static long long monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void run_job(Job *job, long *result)
{
    long outcome = 0;
    for (Py_ssize_t i = 0; i < job->nops; i++) {
        Op *op = &job->ops[i];
        if (op->kind == OP_MEMCPY) {
            if (op->nbytes)
                memmove(op->dst, op->src, op->nbytes);
        } else {
            long r = op->fn(op->args);
            if (r < 0 && outcome >= 0)
                outcome = r;
            else if (outcome >= 0)
                outcome = r;
        }
    }
    *result = outcome;
}

/* Take the oldest job if nobody runs one.  Caller holds the lock. */
static Job *take_job(QueueObject *q)
{
    if (q->running || q->head == NULL)
        return NULL;
    Job *job = q->head;
    q->head = job->next;
    if (q->head == NULL)
        q->tail = NULL;
    __atomic_store_n(&q->queued, q->queued - 1, __ATOMIC_RELEASE);
    q->running = 1;
    return job;
}

/* Run `job` outside the lock, then record it.  Caller holds the lock on entry and exit. */
static void run_taken(QueueObject *q, Job *job)
{
    long result;
    pthread_mutex_unlock(&q->lock);
    run_job(job, &result);
    pthread_mutex_lock(&q->lock);
    q->results[job->id % RESULT_RING] = result;
    __atomic_store_n(&q->done_upto, job->id, __ATOMIC_RELEASE);
    q->running = 0;
    free(job->ops);
    free(job);
    pthread_cond_broadcast(&q->changed);
}

static void add_seconds(struct timespec *ts, double seconds)
{
    long long ns = (long long)ts->tv_nsec + (long long)(seconds * 1e9);
    ts->tv_sec += ns / 1000000000LL;
    ts->tv_nsec = ns % 1000000000LL;
}

/* Poll, without the lock, until a job is queued or SPIN_NS passed.  Caller holds the lock on entry
 * and exit. */
static void spin_for_work(QueueObject *q)
{
    pthread_mutex_unlock(&q->lock);
    long long until = monotonic_ns() + SPIN_NS;
    while (__atomic_load_n(&q->queued, __ATOMIC_ACQUIRE) == 0 && !__atomic_load_n(&q->closing, __ATOMIC_ACQUIRE) &&
           monotonic_ns() < until)
        CPU_RELAX();
    pthread_mutex_lock(&q->lock);
}

static void *worker_main(void *arg)
{
    QueueObject *q = (QueueObject *)arg;
    pthread_mutex_lock(&q->lock);
    int spun = 0;
    while (!q->closing) {
        Job *job = take_job(q);
        if (job != NULL) {
            run_taken(q, job);
            spun = 0;
        } else if (!spun && q->head == NULL) {
            spin_for_work(q); /* the next job usually comes within microseconds */
            spun = 1;
        } else {
            pthread_cond_wait(&q->changed, &q->lock);
            spun = 0;
        }
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

static int parse_op(PyObject *item, Op *op)
{
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) < 1) {
        PyErr_SetString(PyExc_TypeError, "an operation is a tuple (kind, ...)");
        return -1;
    }
    long kind = PyLong_AsLong(PyTuple_GET_ITEM(item, 0));
    if (kind == -1 && PyErr_Occurred())
        return -1;
    memset(op, 0, sizeof(*op));
    op->kind = (int)kind;
    if (kind == OP_MEMCPY) {
        unsigned long long dst, src, n;
        if (!PyArg_ParseTuple(item, "iKKK", &op->kind, &dst, &src, &n))
            return -1;
        op->dst = (void *)(uintptr_t)dst;
        op->src = (const void *)(uintptr_t)src;
        op->nbytes = (size_t)n;
        if ((op->dst == NULL || op->src == NULL) && n) {
            PyErr_SetString(PyExc_ValueError, "memcpy with a NULL pointer");
            return -1;
        }
        return 0;
    }
    if (kind == OP_CALL) {
        unsigned long long fn;
        PyObject *args;
        if (!PyArg_ParseTuple(item, "iKO!", &op->kind, &fn, &PyTuple_Type, &args))
            return -1;
        Py_ssize_t n = PyTuple_GET_SIZE(args);
        if (n > MAX_CALL_ARGS || fn == 0) {
            PyErr_Format(PyExc_ValueError, "a call needs a function and at most %d arguments", MAX_CALL_ARGS);
            return -1;
        }
        op->fn = (task_fn)(uintptr_t)fn;
        for (Py_ssize_t i = 0; i < n; i++) {
            op->args[i] = PyLong_AsUnsignedLongLongMask(PyTuple_GET_ITEM(args, i));
            if (PyErr_Occurred())
                return -1;
        }
        return 0;
    }
    PyErr_Format(PyExc_ValueError, "unknown operation kind %ld", kind);
    return -1;
}

static PyObject *queue_submit(QueueObject *q, PyObject *ops)
{
    PyObject *seq = PySequence_Fast(ops, "submit() takes a sequence of operations");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    Job *job = calloc(1, sizeof(Job));
    Op *parsed = n ? calloc((size_t)n, sizeof(Op)) : NULL;
    if (job == NULL || (n && parsed == NULL)) {
        free(job);
        free(parsed);
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (parse_op(PySequence_Fast_GET_ITEM(seq, i), &parsed[i]) < 0) {
            free(job);
            free(parsed);
            Py_DECREF(seq);
            return NULL;
        }
    }
    Py_DECREF(seq);
    job->nops = n;
    job->ops = parsed;
    pthread_mutex_lock(&q->lock);
    if (q->closing) {
        pthread_mutex_unlock(&q->lock);
        free(parsed);
        free(job);
        PyErr_SetString(PyExc_RuntimeError, "the simulated PL was shut down");
        return NULL;
    }
    job->id = q->next_id;
    __atomic_store_n(&q->next_id, q->next_id + 1, __ATOMIC_RELEASE);
    if (q->tail)
        q->tail->next = job;
    else
        q->head = job;
    q->tail = job;
    __atomic_store_n(&q->queued, q->queued + 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&q->changed);
    long long id = job->id;
    pthread_mutex_unlock(&q->lock);
    return PyLong_FromLongLong(id);
}

static PyObject *queue_run_until(QueueObject *q, PyObject *args)
{
    long long id;
    double timeout;
    if (!PyArg_ParseTuple(args, "Ld", &id, &timeout))
        return NULL;
    if (__atomic_load_n(&q->done_upto, __ATOMIC_ACQUIRE) >= id)
        Py_RETURN_TRUE;
    int done;
    Py_BEGIN_ALLOW_THREADS
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    add_seconds(&deadline, timeout);
    pthread_mutex_lock(&q->lock);
    int spun = 0;
    while (q->done_upto < id && !q->closing) {
        Job *job = take_job(q);
        if (job != NULL) {
            run_taken(q, job); /* help: run it here rather than wait for the worker */
            continue;
        }
        if (!spun) {
            /* The worker runs the job we need: poll for its end rather than sleep through it. */
            pthread_mutex_unlock(&q->lock);
            long long until = monotonic_ns() + SPIN_NS;
            while (__atomic_load_n(&q->done_upto, __ATOMIC_ACQUIRE) < id && monotonic_ns() < until)
                CPU_RELAX();
            pthread_mutex_lock(&q->lock);
            spun = 1;
            continue;
        }
        if (pthread_cond_timedwait(&q->changed, &q->lock, &deadline) != 0)
            break; /* timed out */
    }
    done = q->done_upto >= id;
    pthread_mutex_unlock(&q->lock);
    Py_END_ALLOW_THREADS
    return PyBool_FromLong(done);
}

/* Status reads poll this in a tight loop: it must not touch the lock the worker needs. */
static PyObject *queue_done_upto(QueueObject *q, PyObject *unused)
{
    return PyLong_FromLongLong(__atomic_load_n(&q->done_upto, __ATOMIC_ACQUIRE));
}

static PyObject *queue_result(QueueObject *q, PyObject *arg)
{
    long long id = PyLong_AsLongLong(arg);
    if (id == -1 && PyErr_Occurred())
        return NULL;
    long long done = __atomic_load_n(&q->done_upto, __ATOMIC_ACQUIRE);
    int known = id <= done && id > done - RESULT_RING;
    long r = q->results[id % RESULT_RING];
    if (!known)
        Py_RETURN_NONE;
    return PyLong_FromLong(r);
}

static void stop_thread(QueueObject *q)
{
    if (!q->thread_started)
        return;
    pthread_mutex_lock(&q->lock);
    __atomic_store_n(&q->closing, 1, __ATOMIC_RELEASE); /* the worker may be spinning on it */
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->lock);
    Py_BEGIN_ALLOW_THREADS
    pthread_join(q->thread, NULL);
    Py_END_ALLOW_THREADS
    q->thread_started = 0;
    /* Drop what never ran. */
    Job *job = q->head;
    while (job) {
        Job *next = job->next;
        free(job->ops);
        free(job);
        job = next;
    }
    q->head = q->tail = NULL;
}

static PyObject *queue_close(QueueObject *q, PyObject *unused)
{
    stop_thread(q);
    Py_RETURN_NONE;
}

static int queue_init(QueueObject *q, PyObject *args, PyObject *kwds)
{
    if (!PyArg_ParseTuple(args, ""))
        return -1;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->changed, NULL);
    q->next_id = 1;
    q->done_upto = 0;
    q->queued = 0;
    if (pthread_create(&q->thread, NULL, worker_main, q) != 0) {
        PyErr_SetString(PyExc_RuntimeError, "could not start the PL worker thread");
        return -1;
    }
    q->thread_started = 1;
    return 0;
}

static void queue_dealloc(QueueObject *q)
{
    stop_thread(q);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->changed);
    Py_TYPE(q)->tp_free((PyObject *)q);
}

static PyMethodDef queue_methods[] = {
    {"submit", (PyCFunction)queue_submit, METH_O, "Queue a job (a list of operations); returns its id."},
    {"run_until", (PyCFunction)queue_run_until, METH_VARARGS,
     "run_until(id, timeout) -> bool: run or wait for jobs until job `id` is done."},
    {"done_upto", (PyCFunction)queue_done_upto, METH_NOARGS, "Every job with an id up to this one is done."},
    {"result", (PyCFunction)queue_result, METH_O, "A finished job's result (last call's return), or None."},
    {"close", (PyCFunction)queue_close, METH_NOARGS, "Stop the worker thread; queued jobs are dropped."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject QueueType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "labkit.sim._plqueue.Queue",
    .tp_basicsize = sizeof(QueueObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The simulated PL's job queue, run by a C thread.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)queue_init,
    .tp_dealloc = (destructor)queue_dealloc,
    .tp_methods = queue_methods,
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_plqueue", "The simulated PL's data work, run without the GIL.", -1, NULL,
};

PyMODINIT_FUNC PyInit__plqueue(void)
{
    if (PyType_Ready(&QueueType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
    Py_INCREF(&QueueType);
    if (PyModule_AddObject(m, "Queue", (PyObject *)&QueueType) < 0) {
        Py_DECREF(&QueueType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddIntConstant(m, "OP_MEMCPY", OP_MEMCPY) < 0 || PyModule_AddIntConstant(m, "OP_CALL", OP_CALL) < 0 ||
        PyModule_AddIntConstant(m, "MAX_CALL_ARGS", MAX_CALL_ARGS) < 0)
        return NULL;
    return m;
}
