/* The original's fixture file read through the C API (copied to a temp dir first). */
#define _GNU_SOURCE
#include <unistd.h>
#include "k2hash.h"
#include "check.h"

int main(void)
{
    const char *fx = getenv("FIXTURES");
    if (!fx) fx = "../shared/fixtures/k2hash";
    char dir[] = "/tmp/k2hrs-cfix-XXXXXX", cmd[1024], path[512];
    if (!mkdtemp(dir)) return 2;
    setenv("K2H_LOCKDIR", dir, 1);
    snprintf(path, sizeof path, "%s/small.k2h", dir);
    snprintf(cmd, sizeof cmd, "cp %s/upstream-small.k2h %s", fx, path);
    if (system(cmd) != 0) return 2;

    k2h_h h = k2h_open_rw(path, false, 8, 4, 32, 128);
    CHECK(h != K2H_INVALID_HANDLE);
    CHECK_STR(k2h_get_str_direct_value(h, "key1"), "value1");
    CHECK_STR(k2h_get_str_direct_value(h, "overwritten"), "second-value");
    CHECK(k2h_get_str_direct_value(h, "removed") == NULL);
    CHECK(k2h_get_str_direct_value(h, "expire-short") == NULL);
    CHECK_STR(k2h_get_str_direct_value_np(h, "expire-short"), "expval-short");
    CHECK_STR(k2h_get_str_direct_value(h, "expire-long"), "expval-long");
    CHECK(k2h_get_str_direct_value(h, "enckey") == NULL);
    CHECK_STR(k2h_get_str_direct_value_wp(h, "enckey", "secretpass"), "encvalue");
    char **sk = k2h_get_str_direct_subkeys(h, "parent");
    CHECK(sk && sk[0] && sk[1] && !sk[2]);
    if (sk && sk[0] && sk[1]) { CHECK_STR(sk[0], "child1"); CHECK_STR(sk[1], "child2"); }
    k2h_free_keyarray(sk);
    unsigned char bk[] = {0, 1, 'b', 'i', 'n', 'k', 'e', 'y'};
    size_t vl = 0;
    unsigned char *v = k2h_get_direct_value(h, bk, sizeof bk, &vl);
    CHECK(v && vl == 6 && v[0] == 0xde && v[5] == 0xff);
    free(v);
    int n = 0;
    for (k2h_find_h f = k2h_find_first(h); f; f = k2h_find_next(f)) n++;
    CHECK(n == 13);
    CHECK(k2h_close(h));
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 2;
    CHECK_DONE("test_fixture");
}
