/* Element transfer between databases (family L): scan by hash slot, copy, newer-wins. */
#define _GNU_SOURCE
#include <unistd.h>
#include <time.h>
#include "k2hash.h"
#include "k2hashfunc.h"
#include "check.h"

/* Scan everything matching the filter; returns the number of elements, copying them to dst. */
static int scan(k2h_h src, k2h_h dst, k2h_hash_t target, k2h_hash_t tmax, long range, const struct timespec *ts)
{
    struct timespec start = {0, 0}, end = {4102444800, 0};
    k2h_hash_t next = 0;
    int total = 0, rounds = 0;
    do {
        PK2HBIN bins = NULL; size_t cnt = 99;
        if (!k2h_get_elements_by_hash(src, next, start, end, target, tmax, (k2h_hash_t)-1, 0, range, true, &next, &bins, &cnt)) return -1;
        for (size_t i = 0; i < cnt; i++) {
            if (dst && !k2h_set_element_by_binary(dst, &bins[i], ts)) return -1;
        }
        total += (int)cnt;
        if (bins) free_k2hbins(bins, cnt);
    } while (next != 0 && ++rounds < 100000);
    return total;
}

int main(void)
{
    k2h_h src = k2h_open_mem(8, 4, 32, 128), dst = k2h_open_mem(8, 4, 32, 128);
    bool on = true;
    CHECK(k2h_set_common_attr(src, &on, NULL, NULL, NULL, NULL));
    char k[32];
    for (int i = 0; i < 500; i++) { snprintf(k, 32, "rk%d", i); CHECK(k2h_set_str_value(src, k, k)); }
    CHECK(k2h_add_str_subkey(src, "rk1", "rk2", "rk2"));
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    CHECK(scan(src, dst, 0, 1, 1, &now) == 500);
    CHECK_STR(k2h_get_str_direct_value(dst, "rk499"), "rk499");
    char **sk = k2h_get_str_direct_subkeys(dst, "rk1");
    CHECK(sk && sk[0] && strcmp(sk[0], "rk2") == 0);
    k2h_free_keyarray(sk);
    int cnt = 0;
    PK2HATTRPCK a = k2h_get_str_direct_attrs(dst, "rk7", &cnt);
    CHECK(a && cnt == 1 && memcmp(a[0].pkey, "mtime", 6) == 0);
    k2h_free_attrpack(a, cnt);
    /* a newer local version is kept: replaying old data changes nothing */
    sleep(1);
    CHECK(k2h_set_common_attr(dst, &on, NULL, NULL, NULL, NULL));
    CHECK(k2h_set_str_value(dst, "rk5", "newer"));
    CHECK(scan(src, dst, 0, 1, 1, &now) == 500);
    CHECK_STR(k2h_get_str_direct_value(dst, "rk5"), "newer");
    /* hash range filter: hash % 4 in [1, 1+2) */
    int want = 0;
    for (int i = 0; i < 500; i++) { snprintf(k, 32, "rk%d", i); k2h_hash_t h = k2h_hash(k, strlen(k) + 1); if (h % 4 == 1 || h % 4 == 2) want++; }
    CHECK(scan(src, 0, 1, 4, 2, &now) == want);
    /* bad input */
    k2h_hash_t next; PK2HBIN bins; size_t c;
    struct timespec z = {0, 0};
    CHECK(!k2h_get_elements_by_hash(src, 0, z, z, 0, 1, 0, 0, 1, false, NULL, &bins, &c));
    CHECK(!k2h_get_elements_by_hash(0, 0, z, z, 0, 1, 0, 0, 1, false, &next, &bins, &c));
    CHECK(!k2h_get_elements_by_hash(src, 0, z, z, 0, 0, 0, 0, 1, false, &next, &bins, &c));
    K2HBIN junk = {(unsigned char*)"short", 5};
    CHECK(!k2h_set_element_by_binary(dst, &junk, &now));
    CHECK(!k2h_set_element_by_binary(dst, NULL, &now) && !k2h_set_element_by_binary(dst, &junk, NULL));
    CHECK(k2h_close(src) && k2h_close(dst));
    CHECK_DONE("test_replicate");
}
