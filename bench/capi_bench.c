/*
 * capi_bench: one C program, linked to libk2hash.so.1 and run against either implementation
 * (LD_LIBRARY_PATH picks the library), timing the C API the way applications use it.
 *
 *   capi_bench MODE KEYS VLEN LOOPS THREADS
 *     MODE     "mem", or a file path (created fresh, fully mapped, removed afterwards)
 *     KEYS     number of distinct keys (1 = the same key every time, as k2hbench's default)
 *     VLEN     value length in bytes
 *     LOOPS    operations per thread for each of set and get
 *     THREADS  threads doing sets, then gets, on one shared handle
 *
 * Prints one line per operation: "set|get ns/op ops/s errors". With KEEP=1 in the environment
 * a file is left in place (to compare the files both libraries write for the same data). With
 * ORDER=random the keys are taken in a pseudo-random order (a different one in every pass),
 * else in turn from a place that depends on the thread. NOSETS=1 times the gets alone (after the
 * one fill of every key).
 */
#define _GNU_SOURCE
#include <k2hash.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static k2h_h handle;
static long nkeys, loops;
static unsigned char *value;
static size_t vlen;
static int random_order;

struct job {
    int id;
    int get;
    long errors;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *run(void *arg)
{
    struct job *j = arg;
    char key[48];
    long k = (j->id * 7919L) % nkeys;
    unsigned long x = 0x9E3779B97F4A7C15UL ^ (unsigned long)(j->id + 1) * 0xD1B54A32D192ED03UL;
    for (long i = 0; i < loops; i++) {
        if (random_order) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            k = (long)(x % (unsigned long)nkeys);
        }
        int n = snprintf(key, sizeof key, "KEY-%016lX", k);
        if (!random_order && ++k >= nkeys) k = 0;
        if (j->get) {
            size_t len = 0;
            unsigned char *v = k2h_get_direct_value(handle, (unsigned char *)key, n + 1, &len);
            if (!v || len != vlen) j->errors++;
            free(v);
        } else if (!k2h_set_value(handle, (unsigned char *)key, n + 1, value, vlen)) {
            j->errors++;
        }
    }
    return NULL;
}

static void phase(const char *name, int get, int threads)
{
    pthread_t th[64];
    struct job jobs[64];
    double t0 = now();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct job){i, get, 0};
        pthread_create(&th[i], NULL, run, &jobs[i]);
    }
    long errors = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        errors += jobs[i].errors;
    }
    double ns = (now() - t0) / ((double)loops * threads);
    printf("%s %.0f %.0f %ld\n", name, ns, 1e9 / ns, errors);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s mem|FILE KEYS VLEN LOOPS THREADS\n", argv[0]);
        return 2;
    }
    int mem = strcmp(argv[1], "mem") == 0;
    nkeys = atol(argv[2]);
    vlen = (size_t)atol(argv[3]);
    loops = atol(argv[4]);
    int threads = atoi(argv[5]);
    random_order = getenv("ORDER") && strcmp(getenv("ORDER"), "random") == 0;
    if (nkeys < 1 || vlen < 1 || loops < 1 || threads < 1 || threads > 64) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    if (!mem) unlink(argv[1]);
    handle = mem ? k2h_open_mem(8, 4, 32, 128) : k2h_open_rw(argv[1], true, 8, 4, 32, 128);
    if (handle == K2H_INVALID_HANDLE) {
        fprintf(stderr, "cannot open\n");
        return 1;
    }
    value = malloc(vlen);
    memset(value, 'v', vlen);
    /* fill every key once so gets always hit */
    char key[48];
    for (long k = 0; k < nkeys; k++) {
        int n = snprintf(key, sizeof key, "KEY-%016lX", k);
        k2h_set_value(handle, (unsigned char *)key, n + 1, value, vlen);
    }
    if (!getenv("NOSETS")) phase("set", 0, threads);
    phase("get", 1, threads);
    k2h_close(handle);
    if (!mem && !getenv("KEEP")) unlink(argv[1]);
    free(value);
    return 0;
}
