/* Every function the headers declare `bool` leaves a clean 0 or 1 in the whole return
 * register, as the original's build does: bindings such as the PyPI k2hash package declare
 * some of them with an int result (its set_tx_pool_size reads k2h_set_transaction_thread_pool
 * as an int). Each bool function of k2hash.h, k2hdbg.h and k2htransfunc.h is called through a
 * prototype that says int: once with zero/NULL arguments (every one must refuse them without
 * crashing) and, for a set of them, with arguments that succeed. K2HINC names the folder of the
 * installed headers. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <unistd.h>
#include "k2hash.h"
#include "check.h"

typedef int (*int8_fn)(long, long, long, long, long, long, long, long);

/* Functions that change process-wide state when called with zeros; they are checked below with
 * real arguments instead. */
static const char *const skip_zero[] = {
    "k2h_set_bumpup_debug_signal_user1", /* installs a SIGUSR1 handler */
    "k2h_get_elements_by_hash",          /* takes structs by value: called below */
    NULL,
};

static int skipped(const char *name)
{
    for (int i = 0; skip_zero[i]; i++) {
        if (strcmp(skip_zero[i], name) == 0) return 1;
    }
    return 0;
}

/* Call every `bool name(` declared in one header with zero arguments. Returns the count. */
static int zero_calls(const char *dir, const char *header)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, header);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f) return 0;
    int n = 0;
    char line[4096];
    while (fgets(line, sizeof(line), f)) {
        const char *p = line;
        if (strncmp(p, "extern ", 7) == 0) p += 7;
        if (strncmp(p, "bool ", 5) != 0) continue;
        p += 5;
        char name[256];
        int len = 0;
        while ((isalnum((unsigned char)p[len]) || p[len] == '_') && len < 255) {
            name[len] = p[len];
            len++;
        }
        name[len] = 0;
        if (len == 0 || p[len] != '(' || skipped(name)) continue;
        void *sym = dlsym(RTLD_DEFAULT, name);
        CHECK(sym != NULL);
        if (!sym) {
            fprintf(stderr, "missing %s\n", name);
            continue;
        }
        int8_fn fn = (int8_fn)sym;
        int r = fn(0, 0, 0, 0, 0, 0, 0, 0);
        if (r != 0 && r != 1) fprintf(stderr, "%s returned %d (%#x)\n", name, r, (unsigned)r);
        CHECK(r == 0 || r == 1);
        n++;
    }
    fclose(f);
    return n;
}


int main(void)
{
    const char *dir = getenv("K2HINC");
    if (!dir) dir = "include/k2hash";
    k2h_set_debug_level_silent();
    int n = zero_calls(dir, "k2hash.h") + zero_calls(dir, "k2hdbg.h") + zero_calls(dir, "k2htransfunc.h");
    CHECK(n > 140);

    /* true results through int prototypes */
    int (*set_pool)(int) = (int (*)(int))(void *)k2h_set_transaction_thread_pool;
    CHECK(set_pool(1) == 1);
    int (*no_args)(void) = (int (*)(void))(void *)k2h_set_bumpup_debug_signal_user1;
    CHECK(no_args() == 1);
    no_args = (int (*)(void))(void *)k2h_unset_debug_file;
    CHECK(no_args() == 1);

    k2h_h h = k2h_open_mem(8, 4, 4, 128);
    CHECK(h != K2H_INVALID_HANDLE);
    int (*set_str)(k2h_h, const char *, const char *) =
        (int (*)(k2h_h, const char *, const char *))(void *)k2h_set_str_value;
    CHECK(set_str(h, "key", "value") == 1);
    int (*rm_str)(k2h_h, const char *) = (int (*)(k2h_h, const char *))(void *)k2h_remove_str;
    CHECK(rm_str(h, "key") == 1);
    int (*add_sub)(k2h_h, const char *, const char *, const char *) =
        (int (*)(k2h_h, const char *, const char *, const char *))(void *)k2h_add_str_subkey;
    CHECK(add_sub(h, "parent", "child", "v") == 1);
    k2h_q_h q = k2h_q_handle(h, true);
    int (*qpush)(k2h_q_h, const char *) = (int (*)(k2h_q_h, const char *))(void *)k2h_q_str_push;
    CHECK(qpush(q, "entry") == 1);
    int (*qempty)(k2h_q_h) = (int (*)(k2h_q_h))(void *)k2h_q_empty;
    CHECK(qempty(q) == 0);
    int (*qfree)(k2h_q_h) = (int (*)(k2h_q_h))(void *)k2h_q_free;
    CHECK(qfree(q) == 1);
    typedef int (*by_hash_fn)(k2h_h, k2h_hash_t, struct timespec, struct timespec, k2h_hash_t,
                              k2h_hash_t, k2h_hash_t, k2h_hash_t, long, bool, k2h_hash_t *,
                              PK2HBIN *, size_t *);
    by_hash_fn by_hash = (by_hash_fn)(void *)k2h_get_elements_by_hash;
    struct timespec ts0 = {0, 0};
    k2h_hash_t next = 0;
    PK2HBIN bins = NULL;
    size_t cnt = 0;
    struct timespec tsmax = {0x7fffffff, 0};
    CHECK(by_hash(h, 0, ts0, tsmax, 0, 1, (k2h_hash_t)-1, 0, 1, false, &next, &bins, &cnt) == 1);
    if (bins) free_k2hbins(bins, cnt);
    CHECK(by_hash(0, 0, ts0, ts0, 0, 0, 0, 0, 0, false, &next, &bins, &cnt) == 0);
    int (*close_h)(k2h_h) = (int (*)(k2h_h))(void *)k2h_close;
    CHECK(close_h(h) == 1);
    CHECK(close_h(h) == 0);
    CHECK_DONE("test_bool_abi");
}
