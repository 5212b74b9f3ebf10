/* Transactions, archives, the transaction thread pool and plugin libraries (families B, D). */
#define _GNU_SOURCE
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "k2hash.h"
#include "k2hashfunc.h"
#include "check.h"

static char dir[] = "/tmp/k2hrs-tx-XXXXXX";
static char *in_dir(const char *n) { static char b[4][300]; static int i; i = (i + 1) % 4; snprintf(b[i], 300, "%s/%s", dir, n); return b[i]; }

static long fsize(const char *p) { struct stat st; return stat(p, &st) == 0 ? st.st_size : -1; }

/* record kinds and lengths of a log file */
static int records(const char *p, long *types, long *lens, int max)
{
    FILE *f = fopen(p, "rb");
    int n = 0;
    unsigned char h[104];
    while (f && n < max && fread(h, 1, 104, f) == 104) {
        long t; size_t l[5];
        memcpy(&t, h + 16, 8);
        memcpy(l, h + 24, 40);
        long len = 104 + l[0] + l[1] + l[2] + l[3] + l[4];
        types[n] = t; lens[n] = len; n++;
        fseek(f, len - 104, SEEK_CUR);
    }
    if (f) fclose(f);
    return n;
}

static void test_log(void)
{
    const char *log = in_dir("tx.log");
    k2h_h h = k2h_open_mem(8, 4, 32, 128);
    CHECK(!k2h_enable_transaction(h, NULL));
    CHECK(k2h_get_transaction_archive_fd(h) == -1);
    CHECK(k2h_disable_transaction(h));                 /* nothing enabled: still true */
    CHECK(k2h_enable_transaction(h, log));
    CHECK(k2h_get_transaction_archive_fd(h) >= 0);
    CHECK(k2h_set_str_value(h, "tk", "tv"));
    CHECK(k2h_add_str_subkey(h, "tk", "tsub", "sv"));
    CHECK(k2h_rename_str(h, "tsub", "tsub2"));
    CHECK(k2h_remove_str(h, "tk"));
    CHECK(k2h_disable_transaction(h));
    CHECK(k2h_get_transaction_archive_fd(h) == -1);
    CHECK(k2h_set_str_value(h, "not-logged", "x"));
    /* the sequence the original writes for these four calls */
    long t[16], l[16];
    int n = records(log, t, l, 16);
    CHECK(n == 5);
    long wt[] = {0, 0, 2, 6, 3}, wl[] = {110, 112, 128, 115, 107};
    for (int i = 0; i < 5 && i < n; i++) { CHECK(t[i] == wt[i]); CHECK(l[i] == wl[i]); }
    CHECK(fsize(log) == 572);
    /* replaying the log reproduces the writes */
    k2h_h r = k2h_open_mem(8, 4, 32, 128);
    CHECK(k2h_load_archive(r, log, false));
    CHECK(k2h_get_str_direct_value(r, "tk") == NULL);
    CHECK(k2h_get_str_direct_value(r, "tsub") == NULL);
    CHECK_STR(k2h_get_str_direct_value(r, "tsub2"), "sv");
    CHECK(k2h_close(r));
    CHECK(k2h_close(h));
    CHECK(!k2h_enable_transaction(0, log));
}

static void test_archive(void)
{
    const char *ar = in_dir("a.ar");
    k2h_h h = k2h_open_mem(8, 4, 32, 128);
    char k[32], v[64];
    for (int i = 0; i < 300; i++) { snprintf(k, 32, "ak%d", i); snprintf(v, 64, "av%d", i); CHECK(k2h_set_str_value(h, k, v)); }
    CHECK(k2h_add_str_subkey(h, "ak1", "ak2", "again"));
    CHECK(k2h_add_str_attr(h, "ak3", "attr", "val"));
    CHECK(k2h_set_str_value_wa(h, "enc", "secret", "pw", NULL));
    k2h_q_h q = k2h_q_handle(h, true);
    CHECK(k2h_q_str_push(q, "qv"));
    k2h_q_free(q);
    CHECK(k2h_put_archive(h, ar, false));
    CHECK(k2h_close(h));
    k2h_h r = k2h_open_mem(8, 4, 32, 128);
    CHECK(k2h_load_archive(r, ar, false));
    CHECK_STR(k2h_get_str_direct_value(r, "ak299"), "av299");
    CHECK_STR(k2h_get_str_direct_value(r, "ak2"), "again");
    char **sk = k2h_get_str_direct_subkeys(r, "ak1");
    CHECK(sk && sk[0] && strcmp(sk[0], "ak2") == 0);
    k2h_free_keyarray(sk);
    int cnt = 0;
    PK2HATTRPCK a = k2h_get_str_direct_attrs(r, "ak3", &cnt);
    CHECK(cnt == 1);
    k2h_free_attrpack(a, cnt);
    CHECK(k2h_get_str_direct_value(r, "enc") == NULL);
    CHECK_STR(k2h_get_str_direct_value_wp(r, "enc", "pw"), "secret");
    q = k2h_q_handle(r, true);
    char *s = NULL;
    CHECK(k2h_q_str_pop(q, &s)); CHECK_STR(s, "qv"); free(s);
    k2h_q_free(q);
    /* damaged archives: nothing already stored is lost */
    const char *bad = in_dir("bad.ar");
    FILE *f = fopen(bad, "wb");
    FILE *g = fopen(ar, "rb");
    char buf[700];
    size_t got = fread(buf, 1, sizeof buf, g);
    fclose(g);
    fwrite(buf, 1, got, f);
    fclose(f);
    /* a truncated tail: as the original, a cut head ends the load successfully (this cut
     * leaves a partial record head), with or without errskip */
    CHECK(k2h_load_archive(r, bad, false));
    CHECK(k2h_load_archive(r, bad, true));
    CHECK_STR(k2h_get_str_direct_value(r, "ak150"), "av150");
    f = fopen(bad, "wb");
    memset(buf, 0x5a, sizeof buf);
    fwrite(buf, 1, sizeof buf, f);
    fclose(f);
    /* garbage: fails without errskip, succeeds with it (the original) */
    CHECK(!k2h_load_archive(r, bad, false));
    CHECK(k2h_load_archive(r, bad, true));
    CHECK(!k2h_load_archive(r, in_dir("missing.ar"), true));
    CHECK(!k2h_load_archive(r, NULL, true) && !k2h_put_archive(r, "", true));
    CHECK_STR(k2h_get_str_direct_value(r, "ak150"), "av150");
    CHECK(k2h_close(r));
}

static void test_pool(void)
{
    CHECK(k2h_get_transaction_thread_pool() == 0);
    CHECK(!k2h_set_transaction_thread_pool(65) && !k2h_set_transaction_thread_pool(-1));
    CHECK(k2h_set_transaction_thread_pool(2) && k2h_get_transaction_thread_pool() == 2);
    const char *log = in_dir("pool.log");
    k2h_h h = k2h_open_mem(8, 4, 32, 128);
    CHECK(k2h_enable_transaction(h, log));
    CHECK(!k2h_set_transaction_thread_pool(3));       /* workers are running */
    char k[32];
    for (int i = 0; i < 200; i++) { snprintf(k, 32, "pk%d", i); CHECK(k2h_set_str_value(h, k, k)); }
    CHECK(k2h_close_wait(h, -1));                     /* waits until the queue is drained */
    long t[256], l[256];
    CHECK(records(log, t, l, 256) == 200);
    CHECK(k2h_unset_transaction_thread_pool() && k2h_get_transaction_thread_pool() == 0);
    /* the pooled log replays like a direct one */
    k2h_h r = k2h_open_mem(8, 4, 32, 128);
    CHECK(k2h_load_archive(r, log, false));
    CHECK_STR(k2h_get_str_direct_value(r, "pk199"), "pk199");
    int n = 0;
    for (k2h_find_h f = k2h_find_first(r); f; f = k2h_find_next(f)) n++;
    CHECK(n == 200);
    CHECK(k2h_close(r));
}

static void test_plugins(const char *libdir)
{
    char hp[512], tp[512];
    snprintf(hp, sizeof hp, "%s/libtesthash.so", libdir);
    snprintf(tp, sizeof tp, "%s/libtesttrans.so", libdir);
    CHECK(!k2h_load_hash_library(NULL) && !k2h_load_hash_library(in_dir("nope.so")));
    CHECK(k2h_load_hash_library(hp));
    k2h_h h = k2h_open_mem(8, 4, 32, 128);
    PK2HSTATE st = k2h_get_state(h);
    CHECK(st && strncmp(st->hash_version, "TEST PLUGIN HASH", 16) == 0);
    free(st);
    CHECK(k2h_set_str_value(h, "pl", "v"));
    CHECK_STR(k2h_get_str_direct_value(h, "pl"), "v");
    CHECK(k2h_close(h));
    CHECK(k2h_unload_hash_library());
    CHECK(k2h_hash("a", 2) == 0x089be207b544f1e4ULL);
    /* transaction plugin gets the records and the control calls */
    setenv("K2HRS_TRANS_COUNT", in_dir("count.txt"), 1);
    CHECK(!k2h_load_transaction_library(in_dir("nope.so")));
    CHECK(k2h_load_transaction_library(tp));
    h = k2h_open_mem(8, 4, 32, 128);
    CHECK(k2h_enable_transaction(h, NULL));            /* the plugin's control accepts no file */
    CHECK(k2h_set_str_value(h, "a", "1") && k2h_set_str_value(h, "b", "2") && k2h_remove_str(h, "a"));
    CHECK(k2h_disable_transaction(h));
    CHECK(k2h_close(h));
    CHECK(k2h_unload_transaction_library());
    FILE *f = fopen(in_dir("count.txt"), "r");
    int recs = 0, ctl = 0;
    CHECK(f && fscanf(f, "%d %d", &recs, &ctl) == 2);
    if (f) fclose(f);
    CHECK(recs == 3 && ctl == 2);
    /* attribute plugin: runs on every write of the handle that loaded it */
    char ap[512];
    snprintf(ap, sizeof ap, "%s/libtestattr.so", libdir);
    h = k2h_open_mem(8, 4, 32, 128);
    CHECK(!k2h_add_attr_plugin_library(h, NULL) && !k2h_add_attr_plugin_library(h, in_dir("nope.so")));
    CHECK(!k2h_add_attr_plugin_library(0, ap));
    CHECK(k2h_add_attr_plugin_library(h, ap));
    CHECK(k2h_set_str_value(h, "pk", "hello"));
    int cnt = 0;
    PK2HATTRPCK a = k2h_get_str_direct_attrs(h, "pk", &cnt);
    CHECK(a && cnt == 1 && a[0].keylength == 5 && memcmp(a[0].pkey, "vlen", 5) == 0 && strcmp((char*)a[0].pval, "6") == 0);
    k2h_free_attrpack(a, cnt);
    CHECK(k2h_set_str_value(h, "pk", "nox"));
    CHECK(k2h_get_str_direct_attrs(h, "pk", &cnt) == NULL);
    CHECK(k2h_clean_common_attr(h));
    CHECK(k2h_set_str_value(h, "pk2", "hello"));
    CHECK(k2h_get_str_direct_attrs(h, "pk2", &cnt) == NULL);
    CHECK(k2h_close(h));
    /* back to the built-in: enabling without a file fails again */
    h = k2h_open_mem(8, 4, 32, 128);
    CHECK(!k2h_enable_transaction(h, NULL));
    CHECK(k2h_close(h));
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!mkdtemp(dir)) return 2;
    setenv("K2H_LOCKDIR", dir, 1);
    char libdir[512];
    snprintf(libdir, sizeof libdir, "%s", argv[0]);
    char *slash = strrchr(libdir, '/');
    if (slash) *slash = 0; else strcpy(libdir, ".");
    test_log();
    test_archive();
    test_pool();
    test_plugins(libdir);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 2;
    CHECK_DONE("test_trans");
}
