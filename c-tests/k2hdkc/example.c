/* Example: what `make run` builds and runs against its local k2hdkc cluster. Opens a
 * permanent session through the local chmpx slave, stores keys (spread over the servers by
 * their hash, each copied to one replica), a key with subkeys, a counter and a queue, and reads
 * everything back. Built as a user would: cc example.c $(pkg-config --cflags --libs libk2hdkc)
 *
 *   example SLAVE_CONF          (exit status 0 when every read returned what was stored)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "k2hdkc.h"

static int failures;

static void expect(const char *what, const char *got, const char *want)
{
    bool ok = got && 0 == strcmp(got, want);
    printf("  %-28s %s%s\n", what, got ? got : "(none)", ok ? "" : "   <- WRONG");
    if (!ok) {
        failures++;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SLAVE_CONF\n", argv[0]);
        return 2;
    }
    const char *conf = argv[1];
    k2hdkc_chmpx_h h = k2hdkc_open_chmpx(conf);
    if (h == K2HDKC_INVALID_HANDLE) {
        fprintf(stderr, "cannot attach to the chmpx slave of %s (is the cluster running?)\n", conf);
        return 1;
    }

    /* plain keys */
    char key[64], val[64];
    int stored = 0;
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "demo-key-%d", i);
        snprintf(val, sizeof val, "value of key %d", i);
        if (k2hdkc_pm_set_str_value(h, key, val) && k2hdkc_is_res_success(h)) {
            stored++;
        }
    }
    printf("stored %d keys demo-key-0 .. demo-key-9; read back:\n", stored);
    if (stored != 10) {
        failures++;
    }
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "demo-key-%d", i);
        snprintf(val, sizeof val, "value of key %d", i);
        char *v = k2hdkc_pm_get_str_direct_value(h, key);
        expect(key, v, val);
        free(v);
    }

    /* a key with subkeys (each subkey is a key of its own, on the server of its hash) */
    k2hdkc_pm_set_str_value(h, "demo-fruits", "basket");
    k2hdkc_pm_set_str_subkey(h, "demo-fruits", "demo-apple", "red");
    k2hdkc_pm_set_str_subkey(h, "demo-fruits", "demo-banana", "yellow");
    char **subs = k2hdkc_pm_get_str_direct_subkeys(h, "demo-fruits");
    printf("subkeys of demo-fruits:\n");
    int nsubs = 0;
    for (char **p = subs; p && *p; p++, nsubs++) {
        char *v = k2hdkc_pm_get_str_direct_value(h, *p);
        expect(*p, v, 0 == strcmp(*p, "demo-apple") ? "red" : "yellow");
        free(v);
    }
    k2h_free_keyarray(subs);
    if (nsubs != 2) {
        printf("  %d subkeys   <- WRONG (2 expected)\n", nsubs);
        failures++;
    }

    /* a counter (compare and swap on the server) */
    uint32_t count = 0;
    k2hdkc_pm_cas32_str_init(h, "demo-counter", 41);
    k2hdkc_pm_cas_str_increment(h, "demo-counter");
    bool got = k2hdkc_pm_cas32_str_get(h, "demo-counter", &count);
    char num[32];
    snprintf(num, sizeof num, "%u", (unsigned)count);
    printf("counter:\n");
    expect("demo-counter (41 + 1)", got ? num : NULL, "42");

    /* a FIFO queue */
    k2hdkc_pm_q_str_push(h, "demo-queue", "first", true);
    k2hdkc_pm_q_str_push(h, "demo-queue", "second", true);
    const char *popped = NULL; /* the original's prototype: const char **, freed by the caller */
    printf("queue:\n");
    k2hdkc_pm_q_str_pop(h, "demo-queue", true, &popped);
    expect("pop demo-queue", popped, "first");
    free((char *)popped);
    popped = NULL;
    k2hdkc_pm_q_str_pop(h, "demo-queue", true, &popped);
    expect("pop demo-queue", popped, "second");
    free((char *)popped);

    k2hdkc_close_chmpx(h);
    if (failures) {
        printf("%d reads did not return what was stored\n", failures);
        return 1;
    }
    printf("every read returned what was stored\n");
    return 0;
}
