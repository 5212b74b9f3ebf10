/* Queues and key queues (families O and P), including the original's observed behaviour
 * (shared/spec/k2hash-capi.md sections O, P, 5.5, 5.6 and 9). */
#define _GNU_SOURCE
#include <unistd.h>
#include "k2hash.h"
#include "check.h"

static int calls;
static K2HQRMCBRES fin_rm(const unsigned char *d, size_t l, const PK2HATTRPCK a, int c, void *e)
{
    (void)d; (void)l; (void)a; (void)c; (void)e;
    calls++;
    return K2HQRMCB_RES_FIN_RM;
}
static K2HQRMCBRES keep_b(const unsigned char *d, size_t l, const PK2HATTRPCK a, int c, void *e)
{
    (void)l; (void)a; (void)c; (void)e;
    calls++;
    return d[0] == 'b' ? K2HQRMCB_RES_CON_NOTRM : K2HQRMCB_RES_CON_RM;
}
static K2HQRMCBRES keep_k(const unsigned char *d, size_t l, const PK2HATTRPCK a, int c, void *e)
{
    (void)a; (void)c; (void)e;
    calls++;
    return (l >= 4 && memcmp(d, "keep", 4) == 0) ? K2HQRMCB_RES_CON_NOTRM : K2HQRMCB_RES_CON_RM;
}
static K2HQRMCBRES err_second(const unsigned char *d, size_t l, const PK2HATTRPCK a, int c, void *e)
{
    (void)d; (void)l; (void)a; (void)c; (void)e;
    return ++calls == 2 ? K2HQRMCB_RES_ERROR : K2HQRMCB_RES_CON_RM;
}

static K2HQRMCBRES bogus_rm(const unsigned char *d, size_t l, const PK2HATTRPCK a, int c, void *e)
{
    (void)d; (void)l; (void)a; (void)c; (void)e;
    return (K2HQRMCBRES)99;
}

static void test_queue(k2h_h h)
{
    k2h_q_h q = k2h_q_handle(h, true);
    CHECK(q != 0);
    unsigned char *d = (unsigned char*)"x"; size_t l = 9;
    CHECK(k2h_q_empty(q));
    CHECK(k2h_q_pop(q, &d, &l) && d == NULL && l == 0);      /* empty pop: true, NULL */
    CHECK(!k2h_q_read(q, &d, &l, 0));
    CHECK(k2h_q_str_push(q, "one") && k2h_q_str_push(q, "two") && k2h_q_str_push(q, "three"));
    CHECK(k2h_q_count(q) == 3 && !k2h_q_empty(q));
    char *s = NULL;
    CHECK(k2h_q_str_read(q, &s, 0)); CHECK_STR(s, "one"); free(s);
    CHECK(k2h_q_str_read(q, &s, -1)); CHECK_STR(s, "three"); free(s);
    CHECK(k2h_q_str_read(q, &s, 1)); CHECK_STR(s, "two"); free(s);
    CHECK(!k2h_q_str_read(q, &s, 5) && s == NULL);
    CHECK(!k2h_q_str_read(q, &s, -2));
    /* layout: marker and entry keys under the default prefix */
    int entries = 0, marker = 0;
    for (k2h_find_h f = k2h_find_first(h); f; f = k2h_find_next(f)) {
        unsigned char *k = NULL; size_t kl = 0;
        k2h_find_get_key(f, &k, &kl);
        if (kl == 24 && memcmp(k, "\0K2HQUEUE_PREFIX_MARKER\0", 24) == 0) marker++;
        else if (kl == 68 && memcmp(k, "\0K2HQUEUE_PREFIX_", 17) == 0 && k[33] == '_' && k[50] == '_' && k[67] == 0) entries++;
        free(k);
    }
    CHECK(marker == 1 && entries == 3);
    /* remove also deletes a key named like a removed entry's data (original behaviour) */
    CHECK(k2h_set_str_value(h, "two", "user value"));
    calls = 0;
    CHECK(k2h_q_remove_ext(q, 3, fin_rm, NULL) == 3);
    CHECK(calls == 3 && k2h_q_count(q) == 0);
    CHECK(k2h_get_str_direct_value(h, "two") == NULL);
    /* callback keeps an entry in the middle: as the original, the next entry answered RM ends
     * the loop without being removed */
    CHECK(k2h_q_str_push(q, "a") && k2h_q_str_push(q, "b") && k2h_q_str_push(q, "c"));
    calls = 0;
    CHECK(k2h_q_remove_ext(q, 10, keep_b, NULL) == 1);
    CHECK(calls == 3 && k2h_q_count(q) == 2);
    CHECK(k2h_q_str_read(q, &s, 0)); CHECK_STR(s, "b"); free(s);
    CHECK(k2h_q_str_read(q, &s, -1)); CHECK_STR(s, "c"); free(s);
    CHECK(k2h_q_str_push(q, "d"));
    CHECK(k2h_q_str_pop(q, &s)); CHECK_STR(s, "b"); free(s);
    CHECK(k2h_q_str_pop(q, &s)); CHECK_STR(s, "c"); free(s);
    CHECK(k2h_q_str_pop(q, &s)); CHECK_STR(s, "d"); free(s);
    /* the case: keep, r1, r2 with a callback that keeps "keep": two calls, 0 removed */
    CHECK(k2h_q_str_push(q, "keep") && k2h_q_str_push(q, "r1") && k2h_q_str_push(q, "r2"));
    calls = 0;
    CHECK(k2h_q_remove_ext(q, 10, keep_k, NULL) == 0);
    CHECK(calls == 2 && k2h_q_count(q) == 3);
    CHECK(k2h_q_remove(q, 3) && k2h_q_empty(q));
    /* an error answer ends the loop and reports what was removed so far */
    CHECK(k2h_q_str_push(q, "e1") && k2h_q_str_push(q, "e2") && k2h_q_str_push(q, "e3"));
    calls = 0;
    CHECK(k2h_q_remove_ext(q, 10, err_second, NULL) == 1);
    CHECK(calls == 2 && k2h_q_count(q) == 2);
    CHECK(k2h_q_remove(q, 2) && k2h_q_empty(q));
    /* empty entry */
    CHECK(k2h_q_push(q, NULL, 0) && k2h_q_count(q) == 1);
    CHECK(k2h_q_pop(q, &d, &l) && d == NULL && k2h_q_count(q) == 0);
    /* expired entries are counted but skipped by pop */
    time_t zero = 0;
    CHECK(k2h_q_str_push_wa(q, "old", NULL, 0, NULL, &zero));
    CHECK(k2h_q_str_push(q, "new"));
    sleep(1);
    CHECK(k2h_q_count(q) == 2);
    CHECK(!k2h_q_str_read(q, &s, 0));
    CHECK(k2h_q_str_pop(q, &s)); CHECK_STR(s, "new"); free(s);
    CHECK(k2h_q_empty(q));
    /* encrypted entries */
    CHECK(k2h_q_str_push_wa(q, "secret", NULL, 0, "qp", NULL));
    CHECK(!k2h_q_str_read(q, &s, 0));
    CHECK(k2h_q_str_read_wp(q, &s, 0, "qp")); CHECK_STR(s, "secret"); free(s);
    s = (char*)"x";
    CHECK(k2h_q_str_pop(q, &s) && s == NULL && k2h_q_empty(q));   /* consumed, unreadable */
    CHECK(k2h_q_str_push_wa(q, "secret2", NULL, 0, "qp", NULL));
    CHECK(k2h_q_str_pop_wp(q, &s, "qp")); CHECK_STR(s, "secret2"); free(s);
    /* attributes pushed with the entry are not handed back by pop_wa */
    K2HATTRPCK at = {(unsigned char*)"an", 3, (unsigned char*)"av", 3};
    PK2HATTRPCK pa = (PK2HATTRPCK)1; int ac = 5;
    CHECK(k2h_q_str_push_wa(q, "withattr", &at, 1, NULL, NULL));
    CHECK(k2h_q_str_pop_wa(q, &s, &pa, &ac, NULL)); CHECK_STR(s, "withattr"); free(s);
    CHECK(pa == NULL && ac == 0);
    CHECK(k2h_q_free(q));
    /* LIFO: same queue, pushes go to the head */
    k2h_q_h lq = k2h_q_handle(h, false);
    CHECK(k2h_q_str_push(lq, "a") && k2h_q_str_push(lq, "b"));
    CHECK(k2h_q_str_pop(lq, &s)); CHECK_STR(s, "b"); free(s);
    CHECK(k2h_q_str_pop(lq, &s)); CHECK_STR(s, "a"); free(s);
    CHECK(k2h_q_dump(lq, NULL));
    CHECK(k2h_q_str_push(lq, "z"));
    /* a value that is neither ERROR nor RM keeps the entry, as in the original */
    CHECK(k2h_q_remove_ext(lq, 1, bogus_rm, NULL) == 0 && k2h_q_count(lq) == 1);
    CHECK(k2h_q_remove(lq, 1) && k2h_q_empty(lq));
    CHECK(k2h_q_free(lq));
    /* prefixes: a string prefix has no NUL */
    k2h_q_h p1 = k2h_q_handle_str_prefix(h, true, "PX");
    k2h_q_h p2 = k2h_q_handle_prefix(h, true, (const unsigned char*)"PX", 2);
    k2h_q_h p3 = k2h_q_handle_prefix(h, true, (const unsigned char*)"PX", 3);
    CHECK(p1 && p2 && p3);
    CHECK(k2h_q_str_push(p1, "px"));
    CHECK(k2h_q_count(p2) == 1 && k2h_q_count(p3) == 0);
    CHECK(k2h_get_str_direct_value_np(h, "PXMARKER") != NULL);
    CHECK(k2h_q_handle_prefix(h, true, NULL, 3) == 0);
    CHECK(k2h_q_handle_prefix(h, true, (const unsigned char*)"PX", 0) == 0);
    k2h_q_free(p1); k2h_q_free(p2); k2h_q_free(p3);
    /* bad handles */
    CHECK(k2h_q_handle(0, true) == 0);
    CHECK(k2h_q_count(0) == 0 && !k2h_q_empty(0) && !k2h_q_free(0));
    CHECK(k2h_q_remove_ext(0, 1, fin_rm, NULL) == 0);
    CHECK(!k2h_q_pop(0x55, &d, &l) && !k2h_q_str_push(0x55, "x"));
    CHECK(!k2h_q_pop(q, NULL, &l));
}

static void test_keyqueue(k2h_h h)
{
    k2h_keyq_h kq = k2h_keyq_handle(h, true);
    CHECK(kq != 0);
    char *k = NULL, *v = NULL;
    CHECK(k2h_keyq_empty(kq));
    CHECK(!k2h_keyq_str_pop(kq, &v));
    CHECK(k2h_keyq_str_push_keyval(kq, "k1", "v1"));
    CHECK(k2h_keyq_str_push_keyval(kq, "k2", "v2"));
    CHECK(k2h_keyq_str_push_keyval(kq, "k3", "v3"));
    CHECK(k2h_keyq_count(kq) == 3);
    CHECK_STR(k2h_get_str_direct_value(h, "k2"), "v2");
    CHECK(k2h_keyq_str_read(kq, &v, 0)); CHECK_STR(v, "v1"); free(v);
    CHECK(k2h_keyq_str_read(kq, &v, -1)); CHECK_STR(v, "v3"); free(v);
    CHECK(k2h_keyq_str_read_keyval(kq, &k, &v, 1)); CHECK_STR(k, "k2"); CHECK_STR(v, "v2"); free(k); free(v);
    /* pop returns the value and deletes the key with its subkeys */
    CHECK(k2h_add_str_subkey(h, "k1", "k1child", "c"));
    CHECK(k2h_keyq_str_pop_keyval(kq, &k, &v)); CHECK_STR(k, "k1"); CHECK_STR(v, "v1"); free(k); free(v);
    CHECK(k2h_get_str_direct_value(h, "k1") == NULL && k2h_get_str_direct_value(h, "k1child") == NULL);
    /* remove deletes the named keys */
    CHECK(k2h_keyq_remove(kq, 1));
    CHECK(k2h_get_str_direct_value(h, "k2") == NULL);
    CHECK(k2h_keyq_str_pop(kq, &v)); CHECK_STR(v, "v3"); free(v);
    /* the key-queue twin of the keep/RM quirk: keep, r1, r2 -> two calls, nothing removed */
    CHECK(k2h_keyq_str_push_keyval(kq, "keep", "1") && k2h_keyq_str_push_keyval(kq, "r1", "2") &&
          k2h_keyq_str_push_keyval(kq, "r2", "3"));
    calls = 0;
    CHECK(k2h_keyq_remove_wp_ext(kq, 10, keep_k, NULL, NULL) == 0);
    CHECK(calls == 2 && k2h_keyq_count(kq) == 3);
    CHECK_STR(k2h_get_str_direct_value(h, "r1"), "2");
    CHECK(k2h_keyq_remove(kq, 3) && k2h_keyq_empty(kq));
    /* push of a name alone empties that key's value: its pop fails and consumes the entry */
    CHECK(k2h_set_str_value(h, "kk1", "full"));
    CHECK(k2h_keyq_str_push(kq, "kk1"));
    CHECK(k2h_get_str_direct_value(h, "kk1") == NULL);
    CHECK(!k2h_keyq_str_pop(kq, &v) && k2h_keyq_empty(kq));
    /* pass and expire apply to the key's value */
    CHECK(k2h_keyq_str_push_keyval_wa(kq, "ek", "ev", "kp", NULL));
    CHECK(!k2h_keyq_str_read(kq, &v, 0));
    CHECK(k2h_keyq_str_read_keyval_wp(kq, &k, &v, 0, "kp")); CHECK_STR(k, "ek"); CHECK_STR(v, "ev"); free(k); free(v);
    CHECK(k2h_keyq_str_pop_wp(kq, &v, "kp")); CHECK_STR(v, "ev"); free(v);
    /* key queues and queues share the default-prefix queue */
    k2h_q_h q = k2h_q_handle(h, true);
    CHECK(k2h_keyq_str_push_keyval(kq, "shared", "sv"));
    CHECK(k2h_q_count(q) == 1);
    char *raw = NULL;
    CHECK(k2h_q_str_read(q, &raw, 0)); CHECK_STR(raw, "shared"); free(raw);
    CHECK(k2h_keyq_remove_ext(kq, 5, fin_rm, NULL) == 1);
    CHECK(k2h_get_str_direct_value(h, "shared") == NULL);
    k2h_q_free(q);
    CHECK(k2h_keyq_dump(kq, NULL));
    CHECK(k2h_keyq_free(kq) && !k2h_keyq_free(kq));
    CHECK(k2h_keyq_handle(0, true) == 0 && k2h_keyq_count(0) == 0);
}

int main(void)
{
    char dir[] = "/tmp/k2hrs-q-XXXXXX", path[256], cmd[300];
    if (!mkdtemp(dir)) return 2;
    setenv("K2H_LOCKDIR", dir, 1);
    k2h_h m = k2h_open_mem(8, 4, 32, 128);
    test_queue(m);
    test_keyqueue(m);
    CHECK(k2h_close(m));
    /* the same on a partly mapped file, reopened between push and pop */
    snprintf(path, sizeof path, "%s/q.k2h", dir);
    k2h_h f = k2h_open_rw(path, false, 8, 4, 32, 128);
    k2h_q_h q = k2h_q_handle(f, true);
    for (int i = 0; i < 100; i++) { char b[16]; snprintf(b, sizeof b, "e%d", i); CHECK(k2h_q_str_push(q, b)); }
    k2h_q_free(q);
    CHECK(k2h_close(f));
    f = k2h_open_rw(path, true, 8, 4, 32, 128);
    q = k2h_q_handle(f, false);
    CHECK(k2h_q_count(q) == 100);
    for (int i = 0; i < 100; i++) {
        char b[16], *s = NULL; snprintf(b, sizeof b, "e%d", i);
        CHECK(k2h_q_str_pop(q, &s)); CHECK_STR(s, b); free(s);
    }
    CHECK(k2h_q_empty(q));
    k2h_q_free(q);
    CHECK(k2h_close(f));
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 2;
    CHECK_DONE("test_queue");
}
