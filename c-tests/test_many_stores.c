/* Many stores in one process (issue: servers and tools that keep one store per tenant, queue or
 * shard): 300 k2hash files and 3,000 memory stores open at once, each with its own key, all
 * readable afterwards. A fixed address-space window per store (1 TiB per file, 64 GiB per memory
 * store) exhausted the 128 TiB of user space at 127 files / 14 memory stores. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#include "k2hash.h"
#include "check.h"

#define NFILES 300
#define NMEM 3000

static size_t rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) kb = strtoul(line + 6, NULL, 10);
    }
    if (f) fclose(f);
    return kb;
}

int main(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    k2h_set_debug_level_silent();
    char dir[] = "/tmp/k2hrs_many_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    static k2h_h files[NFILES], mems[NMEM];
    char path[512], key[64], val[256];
    int opened = 0;
    for (int i = 0; i < NFILES; i++) {
        snprintf(path, sizeof path, "%s/f%03d.k2h", dir, i);
        /* small layouts keep the test's memory and disk use low; the address space a store
         * takes no longer depends on its layout (the first 20 use the default one) */
        files[i] = i < 20 ? k2h_open_rw(path, true, 8, 4, 4, 128) : k2h_open_rw(path, true, 4, 4, 4, 128);
        if (files[i] == K2H_INVALID_HANDLE) break;
        snprintf(key, sizeof key, "file-key-%d", i);
        snprintf(val, sizeof val, "file-value-%d", i);
        CHECK(k2h_set_str_value(files[i], key, val));
        opened++;
    }
    CHECK(opened == NFILES);
    int mopened = 0;
    for (int i = 0; i < NMEM; i++) {
        mems[i] = i < 100 ? k2h_open_mem(8, 4, 4, 128) : k2h_open_mem(2, 2, 2, 128);
        if (mems[i] == K2H_INVALID_HANDLE) break;
        snprintf(key, sizeof key, "mem-key-%d", i);
        snprintf(val, sizeof val, "mem-value-%d", i);
        CHECK(k2h_set_str_value(mems[i], key, val));
        mopened++;
    }
    CHECK(mopened == NMEM);
    printf("opened %d files and %d memory stores, RSS %zu MiB\n", opened, mopened, rss_kb() / 1024);
    /* every store still holds its own key and nothing else's */
    int bad = 0;
    for (int i = 0; i < opened; i++) {
        snprintf(key, sizeof key, "file-key-%d", i);
        snprintf(val, sizeof val, "file-value-%d", i);
        char *v = k2h_get_str_direct_value(files[i], key);
        if (!v || strcmp(v, val) != 0) bad++;
        free(v);
        snprintf(key, sizeof key, "file-key-%d", (i + 1) % NFILES);
        v = k2h_get_str_direct_value(files[i], key);
        if (v) bad++;
        free(v);
    }
    for (int i = 0; i < mopened; i++) {
        snprintf(key, sizeof key, "mem-key-%d", i);
        snprintf(val, sizeof val, "mem-value-%d", i);
        char *v = k2h_get_str_direct_value(mems[i], key);
        if (!v || strcmp(v, val) != 0) bad++;
        free(v);
    }
    CHECK(bad == 0);
    /* grow one memory store and one file well past their first mapping segment */
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "grow-%d", i);
        snprintf(val, sizeof val, "%0*d", 200, i);
        if (!k2h_set_str_value(mems[0], key, val) || !k2h_set_str_value(files[0], key, val)) { bad++; break; }
    }
    for (int i = 0; i < 20000; i += 7) {
        snprintf(key, sizeof key, "grow-%d", i);
        snprintf(val, sizeof val, "%0*d", 200, i);
        char *a = k2h_get_str_direct_value(mems[0], key), *b = k2h_get_str_direct_value(files[0], key);
        if (!a || !b || strcmp(a, val) || strcmp(b, val)) bad++;
        free(a); free(b);
    }
    CHECK(bad == 0);
    for (int i = 0; i < mopened; i++) CHECK(k2h_close(mems[i]));
    for (int i = 0; i < opened; i++) CHECK(k2h_close(files[i]));
    /* the files reopen with their contents */
    for (int i = 0; i < opened; i += 37) {
        snprintf(path, sizeof path, "%s/f%03d.k2h", dir, i);
        k2h_h h = k2h_open_ro(path, true, 8, 4, 4, 128);
        snprintf(key, sizeof key, "file-key-%d", i);
        snprintf(val, sizeof val, "file-value-%d", i);
        char *v = k2h_get_str_direct_value(h, key);
        CHECK(v && strcmp(v, val) == 0);
        free(v);
        CHECK(k2h_close(h));
    }
    for (int i = 0; i < opened; i++) {
        snprintf(path, sizeof path, "%s/f%03d.k2h", dir, i);
        unlink(path);
    }
    rmdir(dir);
    CHECK_DONE("test_many_stores");
}
