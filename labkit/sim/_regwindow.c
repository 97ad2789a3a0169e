/*
 * _regwindow: the array that pynq.MMIO gets from the simulated board.
 *
 * On a board, `MMIO.array` is a numpy view of /dev/mem: every element store is
 * one AXI-Lite transaction over the PS's general-purpose (GP) port, and the IP
 * sees each of them -- even a store that repeats the value already there.  A
 * plain shared numpy array would lose exactly that: a poller cannot see a
 * repeated write, clear-on-read bits never clear, and nothing costs bus time.
 *
 * RegisterWindow is an ndarray subclass, written in C because it sits on the
 * hottest path of the lab (the per-word MMIO.write loop of notebook 01) and a
 * Python-level __setitem__ would make one simulated write cost ~1.5x a plain
 * numpy store before the IP model did any work.  Per access it:
 *   1. works out which 32-bit words of the IP the index touches,
 *   2. counts the access (calls and words, read and write) for the power
 *      model and the widgets,
 *   3. in "board" pace, spins for the modelled GP-port time of those words,
 *   4. calls the IP model only if one of the touched words is marked in the
 *      model's per-word flag array (status registers, start bits ...); plain
 *      memories (an HLS kernel's input RAM) never leave C.
 * A slice assignment is therefore one call to the model, a per-word loop one
 * call per word: the same cost shape as the board.
 *
 * The model protocol (Python side, labkit/sim/ip/base.py):
 *   model._reg_write(lo_word, hi_word)          after the store
 *   model._reg_read(lo_word, hi_word) -> None or sequence of (word, mask)
 *       called before the load so the model can refresh computed bits; the
 *       returned masks are cleared after the value was taken (clear-on-read).
 *
 * Loads versus views.  `window[i]` is a load: counted, timed, hooked, and
 * clear-on-read bits clear.  `window[a:b]` is a view, exactly as on a board
 * where it is a view of /dev/mem: taking it moves no data, so it is free and
 * stays live (pynq's RegisterMap and numpy's own slice assignment take such
 * views all the time).  Two exceptions: the model still refreshes computed
 * bits of hooked words so the view shows current values (without clearing
 * anything), and slicing a result memory (FLAG_READ_ON_SLICE) is counted as
 * reading it, because `results = mmio.array[a:b].copy()` is how results are
 * read back and numpy's bulk copy cannot be seen from here.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define FLAG_READ_HOOK 0x1    /* a load of this word calls model._reg_read */
#define FLAG_WRITE_HOOK 0x2   /* a store to this word calls model._reg_write */
#define FLAG_READ_ON_SLICE 0x4 /* taking a slice of this word counts as reading it */

/* Layout of the shared float64 config array (labkit/sim/fabric.py): how to charge an access,
   and the running totals of every window sharing it (one array per bus: cheap to read). */
#define CFG_BOARD_PACE 0
#define CFG_READ_NS 1
#define CFG_WRITE_NS 2
#define CFG_TOTAL_READ_WORDS 3
#define CFG_TOTAL_WRITE_WORDS 4
#define CFG_HOOK_SECONDS 5 /* time spent in the IP models: the simulation's own cost, not the PS's */
#define CFG_SPIN_SECONDS 6 /* time this thread spent stalled for bus time (board pace; see account) */
/* Access blocks: the wall time of every BLOCK_ACCESSES accesses (calls) in a row, the simulation's
   own time taken off, kept in a ring.  A loop of register accesses (the forum's per-word loop) is
   then many samples of one iteration's cost, and labkit.estimate takes a low percentile of them: a burst
   of another program's work on this computer lands in a few blocks and is left out (see
   labkit/estimate.py).  One now_ns() per block: nothing on the per-access path. */
#define CFG_BLOCKS_DONE 7    /* blocks completed so far */
#define CFG_BLOCK_OPEN 8     /* accesses counted in the block being timed */
#define CFG_BLOCK_T0_NS 9    /* now_ns() at its first access */
#define CFG_BLOCK_SIM0_S 10  /* CFG_HOOK_SECONDS + CFG_SPIN_SECONDS at its first access */
#define CFG_RING 11          /* seconds of the last CFG_RING_LEN completed blocks, oldest overwritten */
#define CFG_RING_LEN 256
#define BLOCK_ACCESSES 64
/* Interleaved speed reference: while labkit records a run, every CFG_REF_EVERY-th completed block
   is followed by one call of the bus's reference callable (window->reference[0]: a few iterations
   of the forum's loop on a window that reaches no IP, returning their seconds), kept in a ring beside the blocks'.
   A computer shared with other work changes speed by up to 2x from one millisecond to the next
   (measured on a 2-core VM); a block and the reference timed right after it ran at one speed, so
   their ratio does not depend on it (labkit/estimate.py, paired_cost).  The call's wall time is
   the simulation's, not the student's (CFG_REF_SECONDS), and the next block starts after it. */
#define CFG_REF_EVERY (CFG_RING + CFG_RING_LEN)  /* 0: off */
#define CFG_REF_SECONDS (CFG_REF_EVERY + 1)      /* wall seconds spent in reference calls so far */
#define CFG_REF_RING (CFG_REF_EVERY + 2)         /* reference seconds after block k at k % LEN, else NaN */
#define CFG_LEN (CFG_REF_RING + CFG_RING_LEN)

/* Layout of the uint64 stats array, one per IP (labkit/sim/ip/base.py, RegStats). */
#define ST_READ_CALLS 0
#define ST_READ_WORDS 1
#define ST_WRITE_CALLS 2
#define ST_WRITE_WORDS 3
#define ST_LEN 4

typedef struct {
    PyArrayObject_fields base;
    PyObject *model;      /* IP model, or NULL when detached */
    PyObject *flags;      /* uint8 per IP word */
    PyObject *stats;      /* uint64[ST_LEN] */
    PyObject *config;     /* float64[CFG_LEN] */
    PyObject *storage;    /* the IP's register storage (uint32, contiguous) */
    PyObject *reference;  /* list [callable or None] shared by the bus's windows (CFG_REF_EVERY), or NULL */
} RegisterWindowObject;

static PyTypeObject RegisterWindowType;
static PyObject *str_reg_read, *str_reg_write; /* interned method names */
static PyMappingMethods window_as_mapping;
static PySequenceMethods window_as_sequence;

static double now_ns(void);

/* model.<name>(lo, hi) through vectorcall: this is on the per-word path.  The time it takes is
   added to the window's config (CFG_HOOK_SECONDS), so labkit can keep the simulation's own cost
   out of what it measures as the student's Python. */
static PyObject *call_hook(PyObject *model, PyObject *name, Py_ssize_t lo, Py_ssize_t hi, PyObject *config)
{
    double start = now_ns();
    PyObject *args[3] = {model, PyLong_FromSsize_t(lo), PyLong_FromSsize_t(hi)};
    PyObject *r = NULL;
    if (args[1] != NULL && args[2] != NULL)
        r = PyObject_VectorcallMethod(name, args, 3, NULL);
    Py_XDECREF(args[1]);
    Py_XDECREF(args[2]);
    ((double *)PyArray_DATA((PyArrayObject *)config))[CFG_HOOK_SECONDS] += (now_ns() - start) * 1e-9;
    return r;
}

static inline int is_attached(RegisterWindowObject *w) { return w->model != NULL; }

static void detach(RegisterWindowObject *w)
{
    Py_CLEAR(w->model);
    Py_CLEAR(w->flags);
    Py_CLEAR(w->stats);
    Py_CLEAR(w->config);
    Py_CLEAR(w->storage);
    Py_CLEAR(w->reference);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Busy-wait: the CPU is stalled on the bus for this long on a board too.  Long stalls (a big
   slice) let other threads -- the PL's worker -- run meanwhile, as the PL runs on during them. */
#define SPIN_RELEASE_GIL_NS 20000.0
/* A spin that overruns its request by more than this was descheduled (a normal overshoot is a
   clock read or two, well under a microsecond; a time slice lost to another process is tens of us
   or more). */
#define SPIN_DESCHEDULED_NS 2000.0
static void spin_ns(double ns)
{
    if (ns <= 0.0)
        return;
    double until = now_ns() + ns;
    if (ns < SPIN_RELEASE_GIL_NS) {
        while (now_ns() < until) {
        }
        return;
    }
    Py_BEGIN_ALLOW_THREADS
    while (now_ns() < until) {
    }
    Py_END_ALLOW_THREADS
}

/* window[i] on a 1-D window: a single load or store. */
static int is_scalar_index(PyArrayObject *a, PyObject *key)
{
    return PyArray_NDIM(a) == 1 && !PySlice_Check(key) && !PyTuple_Check(key) && !PyArray_Check(key) &&
           PyIndex_Check(key);
}

/* Byte span [lo, hi) of self's elements, relative to the IP storage. */
static void full_extent(RegisterWindowObject *w, Py_ssize_t base, Py_ssize_t *lo, Py_ssize_t *hi)
{
    PyArrayObject *a = (PyArrayObject *)w;
    Py_ssize_t mn = 0, mx = 0;
    for (int d = 0; d < PyArray_NDIM(a); d++) {
        Py_ssize_t span = (PyArray_DIM(a, d) - 1) * PyArray_STRIDE(a, d);
        if (span < 0)
            mn += span;
        else
            mx += span;
    }
    *lo = base + mn;
    *hi = base + mx + PyArray_ITEMSIZE(a);
}

/*
 * Which IP words does `key` touch?  Returns 0 when nothing is touched (empty
 * slice, or an index that numpy will reject anyway), 1 otherwise, with the
 * word range and the number of bus accesses.  -1 with an exception set on error.
 */
static int touched(RegisterWindowObject *w, PyObject *key, Py_ssize_t *wlo, Py_ssize_t *whi,
                   Py_ssize_t *accesses)
{
    PyArrayObject *a = (PyArrayObject *)w;
    if (PyArray_SIZE(a) == 0)
        return 0;
    char *storage_data = PyArray_BYTES((PyArrayObject *)w->storage);
    Py_ssize_t base = PyArray_BYTES(a) - storage_data;
    Py_ssize_t itemsize = PyArray_ITEMSIZE(a);
    Py_ssize_t words_per_item = itemsize >= 4 ? itemsize / 4 : 1;
    Py_ssize_t lo, hi;

    if (is_scalar_index(a, key)) {
        Py_ssize_t n = PyArray_DIM(a, 0);
        Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
        if (i == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0; /* let numpy produce its own error */
        }
        if (i < 0)
            i += n;
        if (i < 0 || i >= n)
            return 0;
        lo = base + i * PyArray_STRIDE(a, 0);
        hi = lo + itemsize;
        *accesses = words_per_item;
    } else if (PyArray_NDIM(a) == 1 && PySlice_Check(key)) {
        Py_ssize_t start, stop, step;
        if (PySlice_Unpack(key, &start, &stop, &step) < 0)
            return -1;
        Py_ssize_t count = PySlice_AdjustIndices(PyArray_DIM(a, 0), &start, &stop, step);
        if (count <= 0)
            return 0;
        Py_ssize_t stride = PyArray_STRIDE(a, 0);
        Py_ssize_t first = base + start * stride;
        Py_ssize_t last = base + (start + (count - 1) * step) * stride;
        lo = first < last ? first : last;
        hi = (first < last ? last : first) + itemsize;
        *accesses = count * words_per_item;
    } else {
        /* Fancy, boolean, tuple or Ellipsis index: assume the whole view. */
        full_extent(w, base, &lo, &hi);
        *accesses = PyArray_SIZE(a) * words_per_item;
    }
    *wlo = lo / 4;
    *whi = (hi + 3) / 4;
    return 1;
}

static int any_flag(RegisterWindowObject *w, Py_ssize_t wlo, Py_ssize_t whi, uint8_t mask)
{
    PyArrayObject *f = (PyArrayObject *)w->flags;
    Py_ssize_t n = PyArray_DIM(f, 0);
    const uint8_t *p = (const uint8_t *)PyArray_DATA(f);
    if (wlo < 0)
        wlo = 0;
    if (whi > n)
        whi = n;
    /* OR eight flags at a time: a 5600-word slice must stay cheap. */
    uint64_t acc = 0, mask8 = 0x0101010101010101ULL * mask;
    Py_ssize_t i = wlo;
    for (; i + 8 <= whi; i += 8) {
        uint64_t chunk;
        memcpy(&chunk, p + i, 8);
        acc |= chunk;
    }
    if (acc & mask8)
        return 1;
    for (; i < whi; i++)
        if (p[i] & mask)
            return 1;
    return 0;
}

/* After block `done`: one call of the bus's reference callable (see CFG_REF_EVERY).  A callable that
   fails is reported as unraisable and switched off: the run goes on, its estimate falls back on
   the calibration taken after it. */
static void time_reference(RegisterWindowObject *w, double *cfg, Py_ssize_t done)
{
    if (w->reference == NULL || !PyList_Check(w->reference) || PyList_GET_SIZE(w->reference) < 1)
        return;
    PyObject *reference = PyList_GET_ITEM(w->reference, 0);
    if (reference == Py_None)
        return;
    Py_INCREF(reference);
    double start = now_ns();
    PyObject *r = PyObject_CallNoArgs(reference);
    double seconds = r == NULL ? -1.0 : PyFloat_AsDouble(r);
    Py_XDECREF(r);
    if (PyErr_Occurred()) {
        PyErr_WriteUnraisable(reference);
        cfg[CFG_REF_EVERY] = 0.0;
    } else {
        cfg[CFG_REF_RING + done % CFG_RING_LEN] = seconds;
    }
    Py_DECREF(reference);
    cfg[CFG_REF_SECONDS] += (now_ns() - start) * 1e-9;
}

/* One more access in the current block (see CFG_BLOCKS_DONE); a full block goes into the ring. */
static void time_block(RegisterWindowObject *w, double *cfg)
{
    double open = cfg[CFG_BLOCK_OPEN];
    if (open >= BLOCK_ACCESSES || open <= 0.0) {
        double now = now_ns(), sim = cfg[CFG_HOOK_SECONDS] + cfg[CFG_SPIN_SECONDS];
        if (open > 0.0) {
            Py_ssize_t done = (Py_ssize_t)cfg[CFG_BLOCKS_DONE];
            cfg[CFG_RING + done % CFG_RING_LEN] = (now - cfg[CFG_BLOCK_T0_NS]) * 1e-9 - (sim - cfg[CFG_BLOCK_SIM0_S]);
            cfg[CFG_REF_RING + done % CFG_RING_LEN] = NAN;
            cfg[CFG_BLOCKS_DONE] = (double)(done + 1);
            Py_ssize_t every = (Py_ssize_t)cfg[CFG_REF_EVERY];
            if (every > 0 && (done + 1) % every == 0) {
                time_reference(w, cfg, done);
                now = now_ns(); /* the next block starts after the reference */
                sim = cfg[CFG_HOOK_SECONDS] + cfg[CFG_SPIN_SECONDS];
            }
        }
        cfg[CFG_BLOCK_T0_NS] = now;
        cfg[CFG_BLOCK_SIM0_S] = sim;
        open = 0.0;
    }
    cfg[CFG_BLOCK_OPEN] = open + 1.0;
}

static void account(RegisterWindowObject *w, int is_write, Py_ssize_t accesses)
{
    uint64_t *st = (uint64_t *)PyArray_DATA((PyArrayObject *)w->stats);
    double *cfg = (double *)PyArray_DATA((PyArrayObject *)w->config);
    time_block(w, cfg);
    st[is_write ? ST_WRITE_CALLS : ST_READ_CALLS] += 1;
    st[is_write ? ST_WRITE_WORDS : ST_READ_WORDS] += (uint64_t)accesses;
    cfg[is_write ? CFG_TOTAL_WRITE_WORDS : CFG_TOTAL_READ_WORDS] += (double)accesses;
    if (cfg[CFG_BOARD_PACE] != 0.0) {
        double wanted = (double)accesses * cfg[is_write ? CFG_WRITE_NS : CFG_READ_NS];
        double start = now_ns();
        spin_ns(wanted);
        double spent = now_ns() - start;
        /* What the spin cost this thread's CPU: its overshoot (the clock reads) is not Python either.
           A spin that ran far past its end was descheduled meanwhile (another process or the
           hypervisor had the core): that time is nobody's work here, and labkit.estimate already
           leaves out every stretch this thread did not run, so count the spin as what it asked. */
        cfg[CFG_SPIN_SECONDS] += (spent <= wanted + SPIN_DESCHEDULED_NS ? spent : wanted) * 1e-9;
    }
}

static int window_ass_subscript(PyObject *self, PyObject *key, PyObject *value)
{
    RegisterWindowObject *w = (RegisterWindowObject *)self;
    if (value == NULL) {
        PyErr_SetString(PyExc_ValueError, "cannot delete elements of a register window");
        return -1;
    }
    if (PyArray_Type.tp_as_mapping->mp_ass_subscript(self, key, value) < 0)
        return -1;
    if (!is_attached(w))
        return 0;
    Py_ssize_t wlo, whi, accesses;
    int t = touched(w, key, &wlo, &whi, &accesses);
    if (t <= 0)
        return t;
    account(w, 1, accesses);
    if (any_flag(w, wlo, whi, FLAG_WRITE_HOOK)) {
        PyObject *r = call_hook(w->model, str_reg_write, wlo, whi, w->config);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
    }
    return 0;
}

/* Apply the (word, mask) clear list a read hook returned. */
static int apply_clears(RegisterWindowObject *w, PyObject *clears)
{
    PyArrayObject *s = (PyArrayObject *)w->storage;
    uint32_t *regs = (uint32_t *)PyArray_DATA(s);
    Py_ssize_t n = PyArray_DIM(s, 0);
    PyObject *seq = PySequence_Fast(clears, "_reg_read must return None or a sequence of (word, mask)");
    if (seq == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        Py_ssize_t word;
        unsigned long mask;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "nk", &word, &mask)) {
            Py_DECREF(seq);
            return -1;
        }
        if (word >= 0 && word < n)
            regs[word] &= ~(uint32_t)mask;
    }
    Py_DECREF(seq);
    return 0;
}

static PyObject *window_subscript(PyObject *self, PyObject *key)
{
    RegisterWindowObject *w = (RegisterWindowObject *)self;
    if (!is_attached(w))
        return PyArray_Type.tp_as_mapping->mp_subscript(self, key);
    Py_ssize_t wlo, whi, accesses;
    int t = touched(w, key, &wlo, &whi, &accesses);
    if (t < 0)
        return NULL;
    if (!is_scalar_index((PyArrayObject *)w, key)) {
        /* A view: see "Loads versus views" above. */
        if (t) {
            if (any_flag(w, wlo, whi, FLAG_READ_ON_SLICE))
                account(w, 0, accesses);
            if (any_flag(w, wlo, whi, FLAG_READ_HOOK)) {
                PyObject *ignored = call_hook(w->model, str_reg_read, wlo, whi, w->config);
                if (ignored == NULL)
                    return NULL;
                Py_DECREF(ignored);
            }
        }
        return PyArray_Type.tp_as_mapping->mp_subscript(self, key);
    }
    PyObject *clears = NULL;
    if (t) {
        account(w, 0, accesses);
        if (any_flag(w, wlo, whi, FLAG_READ_HOOK)) {
            clears = call_hook(w->model, str_reg_read, wlo, whi, w->config);
            if (clears == NULL)
                return NULL;
        }
    }
    PyObject *result = PyArray_Type.tp_as_mapping->mp_subscript(self, key);
    if (clears != NULL && clears != Py_None && result != NULL && apply_clears(w, clears) < 0)
        Py_CLEAR(result);
    Py_XDECREF(clears);
    return result;
}

/* Iteration and the sequence protocol go through the same hooks. */
static PyObject *window_item(PyObject *self, Py_ssize_t i)
{
    PyObject *key = PyLong_FromSsize_t(i);
    if (key == NULL)
        return NULL;
    PyObject *r = window_subscript(self, key);
    Py_DECREF(key);
    return r;
}

static int window_ass_item(PyObject *self, Py_ssize_t i, PyObject *value)
{
    PyObject *key = PyLong_FromSsize_t(i);
    if (key == NULL)
        return -1;
    int r = window_ass_subscript(self, key, value);
    Py_DECREF(key);
    return r;
}

static PyObject *window_array_finalize(PyObject *self, PyObject *parent)
{
    RegisterWindowObject *w = (RegisterWindowObject *)self;
    detach(w);
    if (parent == NULL || !PyObject_TypeCheck(parent, &RegisterWindowType))
        Py_RETURN_NONE;
    RegisterWindowObject *p = (RegisterWindowObject *)parent;
    if (!is_attached(p))
        Py_RETURN_NONE;
    /* Views of the window stay attached; copies (data elsewhere) do not. */
    PyArrayObject *s = (PyArrayObject *)p->storage;
    char *lo = PyArray_BYTES(s), *hi = lo + PyArray_NBYTES(s);
    char *d = PyArray_BYTES((PyArrayObject *)self);
    if (PyArray_SIZE((PyArrayObject *)self) > 0 && (d < lo || d >= hi))
        Py_RETURN_NONE;
    Py_INCREF(p->model);
    w->model = p->model;
    Py_INCREF(p->flags);
    w->flags = p->flags;
    Py_INCREF(p->stats);
    w->stats = p->stats;
    Py_INCREF(p->config);
    w->config = p->config;
    Py_INCREF(p->storage);
    w->storage = p->storage;
    Py_XINCREF(p->reference);
    w->reference = p->reference;
    Py_RETURN_NONE;
}

static PyObject *window_is_attached(PyObject *self, void *closure)
{
    return PyBool_FromLong(is_attached((RegisterWindowObject *)self));
}

static PyObject *window_word_offset(PyObject *self, void *closure)
{
    RegisterWindowObject *w = (RegisterWindowObject *)self;
    if (!is_attached(w))
        Py_RETURN_NONE;
    Py_ssize_t off = PyArray_BYTES((PyArrayObject *)self) - PyArray_BYTES((PyArrayObject *)w->storage);
    return PyLong_FromSsize_t(off / 4);
}

static void window_dealloc(PyObject *self)
{
    detach((RegisterWindowObject *)self);
    PyArray_Type.tp_dealloc(self);
}

static PyMethodDef window_methods[] = {
    {"__array_finalize__", window_array_finalize, METH_O, "Keep views of a window attached to its IP."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef window_getset[] = {
    {"attached", window_is_attached, NULL, "True while this array still reaches the IP model.", NULL},
    {"word_offset", window_word_offset, NULL, "Index of element 0 among the IP's 32-bit words.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static int check_array(PyObject *o, const char *what, int typenum, npy_intp min_len)
{
    if (!PyArray_Check(o) || PyArray_TYPE((PyArrayObject *)o) != typenum ||
        PyArray_NDIM((PyArrayObject *)o) != 1 || !PyArray_IS_C_CONTIGUOUS((PyArrayObject *)o) ||
        PyArray_DIM((PyArrayObject *)o, 0) < min_len) {
        PyErr_Format(PyExc_TypeError, "%s must be a contiguous 1-D array of the right dtype with at least %zd elements",
                     what, (Py_ssize_t)min_len);
        return -1;
    }
    return 0;
}

static PyObject *make_window(PyObject *module, PyObject *args)
{
    PyObject *storage, *model, *flags, *stats, *config, *reference = NULL;
    Py_ssize_t word_start, nwords;
    if (!PyArg_ParseTuple(args, "OnnOOOO|O", &storage, &word_start, &nwords, &model, &flags, &stats, &config,
                          &reference))
        return NULL;
    if (reference == Py_None)
        reference = NULL;
    if (reference != NULL && (!PyList_Check(reference) || PyList_GET_SIZE(reference) != 1)) {
        PyErr_SetString(PyExc_TypeError, "reference must be a one-element list holding a callable or None");
        return NULL;
    }
    if (check_array(storage, "storage", NPY_UINT32, 0) < 0 || check_array(flags, "flags", NPY_UINT8, 0) < 0 ||
        check_array(stats, "stats", NPY_UINT64, ST_LEN) < 0 || check_array(config, "config", NPY_FLOAT64, CFG_LEN) < 0)
        return NULL;
    npy_intp total = PyArray_DIM((PyArrayObject *)storage, 0);
    if (PyArray_DIM((PyArrayObject *)flags, 0) != total) {
        PyErr_SetString(PyExc_ValueError, "flags must have one entry per storage word");
        return NULL;
    }
    if (word_start < 0 || nwords < 0 || word_start + nwords > total) {
        PyErr_Format(PyExc_ValueError, "window [%zd, %zd) words is outside the IP's %zd words", word_start,
                     word_start + nwords, (Py_ssize_t)total);
        return NULL;
    }
    npy_intp dims[1] = {nwords};
    PyArray_Descr *descr = PyArray_DescrFromType(NPY_UINT32);
    PyObject *arr = PyArray_NewFromDescr(&RegisterWindowType, descr, 1, dims, NULL,
                                         PyArray_BYTES((PyArrayObject *)storage) + word_start * 4,
                                         NPY_ARRAY_CARRAY, NULL);
    if (arr == NULL)
        return NULL;
    Py_INCREF(storage);
    if (PyArray_SetBaseObject((PyArrayObject *)arr, storage) < 0) {
        Py_DECREF(arr);
        return NULL;
    }
    RegisterWindowObject *w = (RegisterWindowObject *)arr;
    Py_INCREF(model);
    w->model = model;
    Py_INCREF(flags);
    w->flags = flags;
    Py_INCREF(stats);
    w->stats = stats;
    Py_INCREF(config);
    w->config = config;
    Py_INCREF(storage);
    w->storage = storage;
    Py_XINCREF(reference);
    w->reference = reference;
    return arr;
}

static PyMethodDef module_methods[] = {
    {"make_window", make_window, METH_VARARGS,
     "make_window(storage, word_start, nwords, model, flags, stats, config, reference=None) -> RegisterWindow"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_regwindow", "Register windows of the simulated PYNQ board.", -1, module_methods,
};

PyMODINIT_FUNC PyInit__regwindow(void)
{
    import_array();
    str_reg_read = PyUnicode_InternFromString("_reg_read");
    str_reg_write = PyUnicode_InternFromString("_reg_write");
    if (str_reg_read == NULL || str_reg_write == NULL)
        return NULL;
    window_as_mapping = *PyArray_Type.tp_as_mapping;
    window_as_mapping.mp_subscript = window_subscript;
    window_as_mapping.mp_ass_subscript = window_ass_subscript;
    window_as_sequence = *PyArray_Type.tp_as_sequence;
    window_as_sequence.sq_item = window_item;
    window_as_sequence.sq_ass_item = window_ass_item;

    RegisterWindowType.tp_name = "labkit.sim._regwindow.RegisterWindow";
    RegisterWindowType.tp_basicsize = sizeof(RegisterWindowObject);
    RegisterWindowType.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
    RegisterWindowType.tp_doc = "A numpy view of an IP's registers whose loads and stores reach the IP model.";
    RegisterWindowType.tp_base = &PyArray_Type;
    RegisterWindowType.tp_dealloc = window_dealloc;
    RegisterWindowType.tp_as_mapping = &window_as_mapping;
    RegisterWindowType.tp_as_sequence = &window_as_sequence;
    RegisterWindowType.tp_methods = window_methods;
    RegisterWindowType.tp_getset = window_getset;
    if (PyType_Ready(&RegisterWindowType) < 0)
        return NULL;

    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
    Py_INCREF(&RegisterWindowType);
    if (PyModule_AddObject(m, "RegisterWindow", (PyObject *)&RegisterWindowType) < 0) {
        Py_DECREF(&RegisterWindowType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
