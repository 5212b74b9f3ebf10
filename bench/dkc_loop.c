/*
 * dkc_loop: set/get rates of a K2HDKC cluster through the C API of k2hdkc.h, with permanent
 * handles on the local chmpx slave, one request at a time per client, no pipelining. The
 * same source builds against the original libk2hdkc and ours (bench/k2hdkc_bench.sh).
 *
 *   dkc_loop SLAVE_CONF CTLPORT COUNT [VALUE_BYTES [CLIENTS [set|get|both [TAG]]]]
 *
 * CLIENTS processes each write COUNT keys of their own (k2hdkc_pm_set_str_value), then each
 * reads them back (k2hdkc_pm_get_str_value) and checks every value; `set` or `get` runs one
 * phase only (keys written by one run and read by a later one), TAG names the keys. The rate
 * of a phase is all the clients' requests over the wall time of that phase. Exit status 1 on
 * any error or wrong value.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <k2hdkc/k2hdkc.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void value_of(char *val, size_t vlen, int client, long i)
{
    snprintf(val, vlen + 1, "%0*ld", (int)vlen, (long)client * 100000000L + i);
}

/* One client's phase: 0 = sets, 1 = gets; returns the number of errors. */
static const char *tag = "dkcloop";

static long run(const char *conf, short ctlport, int client, long n, size_t vlen, int phase)
{
    k2hdkc_chmpx_h h = k2hdkc_open_chmpx_ex(conf, ctlport, false, false, true);
    if (h == K2HDKC_INVALID_HANDLE) {
        fprintf(stderr, "dkc_loop: client %d could not open the slave\n", client);
        return n;
    }
    char *val = malloc(vlen + 1);
    char key[64];
    long errs = 0;
    for (long i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%s-%d-%ld", tag, client, i);
        value_of(val, vlen, client, i);
        if (phase == 0) {
            if (!k2hdkc_pm_set_str_value(h, key, val) || !k2hdkc_is_res_success(h)) {
                errs++;
            }
        } else {
            char *got = NULL;
            if (!k2hdkc_pm_get_str_value(h, key, &got) || !got || strcmp(got, val) != 0) {
                errs++;
            }
            free(got);
        }
    }
    free(val);
    k2hdkc_close_chmpx_ex(h, true);
    return errs;
}

/* Runs a phase in CLIENTS processes; returns the wall time, adds the errors to *errs. */
static double phase(const char *conf, short ctlport, int clients, long n, size_t vlen, int ph, long *errs)
{
    double t0 = now();
    for (int c = 0; c < clients; c++) {
        pid_t p = fork();
        if (p == 0) {
            long e = run(conf, ctlport, c, n, vlen, ph);
            _exit(e ? 1 : 0);
        }
        if (p < 0) {
            (*errs)++;
        }
    }
    for (int c = 0; c < clients; c++) {
        int st = 0;
        if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            (*errs)++;
        }
    }
    return now() - t0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s SLAVE_CONF CTLPORT COUNT [VALUE_BYTES [CLIENTS]]\n", argv[0]);
        return 2;
    }
    const char *conf = argv[1];
    short ctlport = (short)atoi(argv[2]);
    long n = atol(argv[3]);
    size_t vlen = argc > 4 ? (size_t)atol(argv[4]) : 128;
    int clients = argc > 5 ? atoi(argv[5]) : 1;
    const char *phases = argc > 6 ? argv[6] : "both";
    if (argc > 7) {
        tag = argv[7];
    }
    int do_set = strcmp(phases, "get") != 0, do_get = strcmp(phases, "set") != 0;
    if (n <= 0 || vlen < 12 || clients <= 0) {
        fprintf(stderr, "dkc_loop: COUNT > 0, VALUE_BYTES >= 12, CLIENTS > 0\n");
        return 2;
    }
    k2hdkc_set_debug_level_silent();
    long errs = 0;
    double ts = do_set ? phase(conf, ctlport, clients, n, vlen, 0, &errs) : 0;
    double tg = do_get ? phase(conf, ctlport, clients, n, vlen, 1, &errs) : 0;
    double total = (double)n * clients;
    printf("RESULT clients %d, %ld keys each, %zu-byte values: set %.0f ops/s (%.3f ms/op), "
           "get %.0f ops/s (%.3f ms/op), failed clients %ld\n",
           clients, n, vlen, ts > 0 ? total / ts : 0, ts * 1e3 * clients / total,
           tg > 0 ? total / tg : 0, tg * 1e3 * clients / total, errs);
    return errs ? 1 : 0;
}
