/* Behaviour of the core C API (families A, C, E-I, J, K, M, Q, R, S), including the original's
 * quirks listed in shared/spec/k2hash-capi.md. */
#define _GNU_SOURCE
#include <unistd.h>
#include <sys/stat.h>
#include <signal.h>
#include <fcntl.h>
#include <time.h>
#include "k2hash.h"
#include "k2hdbg.h"
#include "k2hashfunc.h"
#include "check.h"

static char tmpdir[256];

static void path_in_tmp(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", tmpdir, name); }

static void test_values(k2h_h h)
{
    unsigned char *v = NULL; size_t vl = 99;
    CHECK(k2h_set_str_value(h, "key1", "val1"));
    CHECK_STR(k2h_get_str_direct_value(h, "key1"), "val1");
    /* str APIs store the NUL: a binary lookup without it does not find the key */
    CHECK(!k2h_get_value(h, (const unsigned char*)"key1", 4, &v, &vl));
    CHECK(v == NULL && vl == 0);
    CHECK(k2h_get_value(h, (const unsigned char*)"key1", 5, &v, &vl));
    CHECK(vl == 5 && memcmp(v, "val1", 5) == 0);
    free(v);
    /* empty values read as missing */
    CHECK(k2h_set_value(h, (const unsigned char*)"e", 1, NULL, 5));
    CHECK(k2h_get_direct_value(h, (const unsigned char*)"e", 1, &vl) == NULL);
    CHECK(k2h_set_value(h, (const unsigned char*)"e", 1, (const unsigned char*)"abc", 0));
    CHECK(!k2h_set_value(h, NULL, 3, (const unsigned char*)"abc", 3));
    CHECK(!k2h_set_str_value(h, "", ""));
    /* NULL outputs are rejected without touching anything */
    CHECK(!k2h_get_value(h, (const unsigned char*)"key1", 5, NULL, &vl));
    CHECK(!k2h_get_str_value(h, "key1", NULL));
    /* overwrite */
    CHECK(k2h_set_str_value(h, "key1", "second"));
    char *s = NULL;
    CHECK(k2h_get_str_value(h, "key1", &s));
    CHECK_STR(s, "second");
    free(s);
    /* binary keys and values */
    unsigned char bk[] = {0, 1, 'b', 0x80, 0xff}, bv[] = {0xde, 0xad, 0, 0xef};
    CHECK(k2h_set_value(h, bk, sizeof bk, bv, sizeof bv));
    v = k2h_get_direct_value(h, bk, sizeof bk, &vl);
    CHECK(v && vl == 4 && memcmp(v, bv, 4) == 0);
    free(v);
    /* large value across many pages */
    char *big = malloc(100001);
    for (int i = 0; i < 100000; i++) big[i] = 'A' + i % 26;
    big[100000] = 0;
    CHECK(k2h_set_str_value(h, "big", big));
    s = k2h_get_str_direct_value(h, "big");
    CHECK(s && strcmp(s, big) == 0);
    free(s); free(big);
}

static K2HGETCBRES trial(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl,
                         unsigned char **nv, size_t *nl, const PK2HATTRPCK a, int ac, void *ext)
{
    (void)k; (void)kl; (void)v; (void)vl; (void)a; (void)ac;
    (*(int*)ext)++;
    *nv = (unsigned char*)strdup("replaced");
    *nl = 9;
    return K2HGETCB_RES_OVERWRITE;
}

static K2HGETCBRES bogus(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl,
                         unsigned char **nv, size_t *nl, const PK2HATTRPCK a, int ac, void *ext)
{
    (void)k; (void)kl; (void)v; (void)vl; (void)nv; (void)nl; (void)a; (void)ac; (void)ext;
    return (K2HGETCBRES)42;   /* not a defined result: treated as an error */
}

static void test_callback(k2h_h h)
{
    int calls = 0;
    CHECK(k2h_set_str_value(h, "cb", "orig"));
    char *s = k2h_get_str_direct_value_ext(h, "cb", trial, &calls);
    CHECK_STR(s, "replaced");
    free(s);
    CHECK(calls == 1);
    CHECK_STR(k2h_get_str_direct_value(h, "cb"), "replaced");
    CHECK(k2h_get_str_direct_value_ext(h, "no-such-key", trial, &calls) == NULL);
    CHECK(k2h_get_str_direct_value_ext(h, "cb", bogus, NULL) == NULL);
    CHECK(calls == 1);
}

static void test_subkeys(k2h_h h)
{
    CHECK(k2h_add_str_subkey(h, "p", "sb", "b"));
    CHECK(k2h_add_str_subkey(h, "p", "sa", "a"));
    CHECK(k2h_add_str_subkey(h, "p", "sc", "c"));
    CHECK(k2h_add_str_subkey(h, "p", "sa", "a2"));
    char **arr = NULL;
    int n = k2h_get_str_subkeys(h, "p", &arr);
    CHECK(n == 3);
    if (n == 3) { CHECK_STR(arr[0], "sa"); CHECK_STR(arr[1], "sb"); CHECK_STR(arr[2], "sc"); CHECK(arr[3] == NULL); }
    k2h_free_keyarray(arr);
    /* parent created by add_subkey has an empty value: get fails, subkeys exist */
    CHECK(k2h_get_str_direct_value(h, "p") == NULL);
    PK2HKEYPCK pk = NULL; int cnt = 0;
    CHECK(k2h_get_subkeys(h, (const unsigned char*)"p", 2, &pk, &cnt));
    CHECK(cnt == 3 && pk[0].length == 3 && memcmp(pk[0].pkey, "sa", 3) == 0);
    k2h_free_keypack(pk, cnt);
    /* set_all with a new list deletes the children dropped from it, does not create new ones */
    const char *list[] = {"sa", "sz", NULL};
    CHECK(k2h_set_str_all(h, "p", "pv2", list));
    CHECK(k2h_get_str_direct_value(h, "sb") == NULL);
    CHECK(k2h_get_str_direct_value(h, "sc") == NULL);
    CHECK_STR(k2h_get_str_direct_value(h, "sa"), "a2");
    CHECK(k2h_get_str_direct_value(h, "sz") == NULL);
    /* set_subkeys does not delete */
    const char *l2[] = {"sz", NULL};
    CHECK(k2h_set_str_subkeys(h, "p", l2));
    CHECK_STR(k2h_get_str_direct_value(h, "sa"), "a2");
    /* remove keeps children; remove_all is recursive */
    CHECK(k2h_add_str_subkey(h, "r", "rs", "x"));
    CHECK(k2h_add_str_subkey(h, "rs", "rs3", "y"));
    CHECK(k2h_remove_str(h, "r"));
    CHECK_STR(k2h_get_str_direct_value(h, "rs"), "x");
    /* add_subkey recreates the child: its own list is dropped and rs3 is orphaned */
    CHECK(k2h_add_str_subkey(h, "r2", "rs", "x"));
    CHECK(k2h_get_str_direct_subkeys(h, "rs") == NULL);
    CHECK(k2h_add_str_subkey(h, "rs", "rs4", "z"));
    CHECK(k2h_remove_str_all(h, "r2"));
    CHECK(k2h_get_str_direct_value(h, "rs") == NULL);
    CHECK(k2h_get_str_direct_value(h, "rs4") == NULL);
    CHECK_STR(k2h_get_str_direct_value(h, "rs3"), "y");
    CHECK(k2h_remove_str(h, "missing"));
    CHECK(k2h_remove_str_all(h, "missing"));
    /* remove_subkey only when listed */
    CHECK(k2h_add_str_subkey(h, "q", "q1", "1"));
    CHECK(k2h_set_str_value(h, "q2", "2"));
    CHECK(k2h_remove_str_subkey(h, "q", "q2"));
    CHECK_STR(k2h_get_str_direct_value(h, "q2"), "2");
    CHECK(k2h_remove_str_subkey(h, "q", "q1"));
    CHECK(k2h_get_str_direct_value(h, "q1") == NULL);
    CHECK(k2h_get_str_direct_subkeys(h, "q") == NULL);
    CHECK(k2h_remove_str_subkey(h, "nope", "q1"));
}

static void test_attrs(k2h_h h)
{
    CHECK(k2h_add_str_attr(h, "newkey", "n", "v"));
    int cnt = 0;
    PK2HATTRPCK a = k2h_get_str_direct_attrs(h, "newkey", &cnt);
    CHECK(a && cnt == 1 && a[0].keylength == 2 && memcmp(a[0].pkey, "n", 2) == 0 && a[0].vallength == 2);
    k2h_free_attrpack(a, cnt);
    /* set_value keeps user attributes, set_all drops them */
    CHECK(k2h_set_str_value(h, "newkey", "value"));
    a = k2h_get_str_direct_attrs(h, "newkey", &cnt);
    CHECK(a && cnt == 1);
    k2h_free_attrpack(a, cnt);
    CHECK(k2h_set_str_all(h, "newkey", "value", NULL));
    CHECK(k2h_get_str_direct_attrs(h, "newkey", &cnt) == NULL);
    /* mtime */
    bool on = true, off = false;
    CHECK(k2h_set_common_attr(h, &on, NULL, NULL, NULL, NULL));
    CHECK(k2h_set_str_value(h, "mt", "x"));
    a = k2h_get_str_direct_attrs(h, "mt", &cnt);
    CHECK(a && cnt == 1 && memcmp(a[0].pkey, "mtime", 6) == 0 && a[0].vallength == 16);
    k2h_free_attrpack(a, cnt);
    CHECK(k2h_set_common_attr(h, &off, NULL, NULL, NULL, NULL));
    /* encryption with a pass */
    CHECK(k2h_set_str_value_wa(h, "enc", "plaintext", "pw", NULL));
    CHECK(k2h_get_str_direct_value(h, "enc") == NULL);
    CHECK(k2h_get_str_direct_value_wp(h, "enc", "") == NULL);
    CHECK(k2h_get_str_direct_value_wp(h, "enc", "wrong") == NULL);
    CHECK_STR(k2h_get_str_direct_value_wp(h, "enc", "pw"), "plaintext");
    size_t rl = 0;
    unsigned char *raw = k2h_get_direct_value_np(h, (const unsigned char*)"enc", 4, &rl);
    CHECK(raw && rl == 64 && memcmp(raw, "Salted__", 8) == 0);
    free(raw);
    a = k2h_get_str_direct_attrs(h, "enc", &cnt);
    CHECK(a && cnt == 1 && strcmp((char*)a[0].pkey, "aes256_cbc_pad.pbkdf2.sha256") == 0);
    k2h_free_attrpack(a, cnt);
    CHECK(k2h_add_attr_crypt_pass(h, "pw", false));
    CHECK_STR(k2h_get_str_direct_value(h, "enc"), "plaintext");
    CHECK(!k2h_add_attr_crypt_pass(h, "", false));
    /* expire */
    time_t zero = 0, neg = -1;
    CHECK(k2h_set_str_value_wa(h, "exp", "soon", NULL, &zero));
    sleep(1);
    CHECK(k2h_get_str_direct_value(h, "exp") == NULL);
    CHECK_STR(k2h_get_str_direct_value_np(h, "exp"), "soon");
    CHECK(!k2h_set_str_value_wa(h, "exp", "soon", NULL, &neg));
    CHECK(!k2h_set_common_attr(h, NULL, NULL, NULL, NULL, &zero));
    CHECK(!k2h_set_common_attr(h, NULL, &on, NULL, NULL, NULL) || 1);
    CHECK(k2h_clean_common_attr(h));
    /* history */
    CHECK(k2h_set_common_attr(h, NULL, NULL, NULL, &on, NULL));
    CHECK(k2h_set_str_value(h, "hk", "v1"));
    CHECK(k2h_set_str_value(h, "hk", "v2"));
    CHECK_STR(k2h_get_str_direct_value(h, "hk"), "v2");
    int hist = 0;
    for (k2h_find_h f = k2h_find_first(h); f; f = k2h_find_next(f)) {
        unsigned char *k = NULL; size_t kl = 0;
        if (k2h_find_get_key(f, &k, &kl) && kl == 3 + 1 + 44 + 1 && memcmp(k, "hk\0\0", 4) == 0) {
            hist++;
            CHECK(k2h_get_direct_value(h, k, kl, &rl) == NULL);  /* history keys are hidden */
            unsigned char *hv = k2h_get_direct_value_np(h, k, kl, &rl);
            CHECK(hv && strcmp((char*)hv, "v1") == 0);
            free(hv);
        }
        free(k);
    }
    CHECK(hist == 1);
    CHECK(k2h_clean_common_attr(h));
    CHECK(k2h_print_attr_version(h, NULL));
}

static void test_rename_find(k2h_h h)
{
    CHECK(k2h_set_str_value(h, "ra", "A"));
    CHECK(k2h_rename_str(h, "ra", "rb"));
    CHECK(k2h_get_str_direct_value(h, "ra") == NULL);
    CHECK_STR(k2h_get_str_direct_value(h, "rb"), "A");
    CHECK(!k2h_rename_str(h, "ra", "rc"));
    /* the original does not check the destination: a duplicate shadows it */
    CHECK(k2h_set_str_value(h, "rx", "X"));
    CHECK(k2h_set_str_value(h, "ry", "Y"));
    CHECK(k2h_rename_str(h, "ry", "rx"));
    CHECK_STR(k2h_get_str_direct_value(h, "rx"), "X");
    CHECK(k2h_remove_str(h, "rx"));
    CHECK_STR(k2h_get_str_direct_value(h, "rx"), "Y");

    /* find_first_subkey quirk: stops when the first listed key is missing */
    CHECK(k2h_add_str_subkey(h, "fp", "f1", "1"));
    CHECK(k2h_add_str_subkey(h, "fp", "f2", "2"));
    k2h_find_h f = k2h_find_first_str_subkey(h, "fp");
    int n = 0;
    for (; f; f = k2h_find_next(f)) n++;
    CHECK(n == 2);
    CHECK(k2h_remove_str(h, "f1"));
    CHECK(k2h_find_first_str_subkey(h, "fp") == K2H_INVALID_HANDLE);
    CHECK(k2h_find_first_str_subkey(h, "missing") == K2H_INVALID_HANDLE);
    CHECK(k2h_find_free(0));
}

static void test_bad_input(void)
{
    CHECK(!k2h_close(0));
    CHECK(!k2h_close(0x1234567));
    CHECK(k2h_get_str_direct_value(0, "x") == NULL);
    CHECK(k2h_find_first(0) == 0);
    CHECK(k2h_get_state(0) == NULL);
    CHECK(!k2h_print_state(0, NULL));
    CHECK(!k2h_dump_head(0, NULL));
    CHECK(!k2h_set_str_value(0, "a", "b"));
    CHECK(k2h_open_mem(1, 4, 32, 128) == 0);
    CHECK(k2h_open_mem(8, 4, 0, 128) == 0);
    CHECK(k2h_open_mem(29, 4, 32, 128) == 0);
    CHECK(!k2h_create(NULL, 8, 4, 32, 128));
    CHECK(k2h_free_keypack(NULL, 3));
    CHECK(k2h_free_keyarray(NULL));
    CHECK(k2h_free_attrpack(NULL, 1));
    free_k2hbin(NULL);
    free_k2hbins(NULL, 0);
    k2h_h h = k2h_open_mem(8, 4, 32, 128);
    CHECK(!k2h_close_wait(h, -2));
    CHECK(!k2h_set_all(h, (const unsigned char*)"k", 1, (const unsigned char*)"v", 1, NULL, 3));
    CHECK(k2h_close(h));
    CHECK(!k2h_close(h));  /* stale handle */
    char p[512];
    path_in_tmp(p, sizeof p, "missing.k2h");
    CHECK(k2h_open_ro(p, true, 8, 4, 32, 128) == 0);
    /* garbage and truncated files are refused */
    path_in_tmp(p, sizeof p, "garbage.k2h");
    FILE *fp = fopen(p, "w");
    for (int i = 0; i < 60000; i++) fputc(i * 7, fp);
    fclose(fp);
    CHECK(k2h_open_rw(p, true, 8, 4, 32, 128) == 0);
    path_in_tmp(p, sizeof p, "trunc.k2h");
    CHECK(k2h_create(p, 8, 4, 32, 128));
    CHECK(truncate(p, 100000) == 0);
    CHECK(k2h_open_rw(p, true, 8, 4, 32, 128) == 0);
}

static void test_files(void)
{
    char p[512];
    path_in_tmp(p, sizeof p, "a.k2h");
    CHECK(k2h_create(p, 8, 4, 32, 128));
    struct stat st;
    CHECK(stat(p, &st) == 0 && st.st_size == 6156288);
    k2h_h a = k2h_open_rw(p, false, 2, 2, 2, 512);   /* layout ignored for an existing file */
    k2h_h b = k2h_open_rw(p, true, 8, 4, 32, 128);
    CHECK(a && b);
    PK2HSTATE s = k2h_get_state(a);
    CHECK(s && s->cur_mask == 0xff && s->collision_mask == 0xf && s->page_size == 128 && s->total_size == 6156288);
    CHECK(s && s->total_element_count == 16384 && s->total_page_count == 32768 && s->assigned_area_count == 4);
    CHECK(s && strcmp(s->version, "K2H V2") == 0);
    free(s);
    CHECK(k2h_set_str_value(a, "shared", "yes"));
    CHECK_STR(k2h_get_str_direct_value(b, "shared"), "yes");
    k2h_h r = k2h_open_ro(p, true, 8, 4, 32, 128);
    CHECK(r != 0);
    CHECK_STR(k2h_get_str_direct_value(r, "shared"), "yes");
    CHECK(!k2h_set_str_value(r, "x", "y"));       /* the original crashes here */
    CHECK(!k2h_remove_str(r, "shared"));
    CHECK(k2h_close(r));
    CHECK_STR(k2h_get_str_direct_value(a, "shared"), "yes");
    CHECK(k2h_close(a) && k2h_close(b));
    /* temporary file disappears at close */
    path_in_tmp(p, sizeof p, "t.k2h");
    k2h_h t = k2h_open_tempfile(p, true, 8, 4, 32, 128);
    CHECK(t && access(p, F_OK) == 0);
    CHECK(k2h_close(t));
    CHECK(access(p, F_OK) != 0);
    /* memory via NULL path even when readonly is asked */
    k2h_h m = k2h_open(NULL, true, false, true, 8, 4, 32, 128);
    CHECK(m && k2h_set_str_value(m, "a", "b"));
    CHECK(k2h_close(m));
}

static void test_hash_and_utils(void)
{
    CHECK(k2h_hash("a", 2) == 0x089be207b544f1e4ULL);
    CHECK(k2h_second_hash("a", 2) == 0xaf63dc4c8601ec8cULL);
    unsigned char hb[] = {0x80, 0xff};
    CHECK(k2h_hash(hb, 2) == 0x08ea0b07b58758e0ULL);
    CHECK(k2h_hash(NULL, 0) == 0);
    CHECK(strcmp(k2h_hash_version(), "FNV-1A BUILTIN") == 0);
    CHECK(k2hbincmp((const unsigned char*)"ab", 2, (const unsigned char*)"abc", 3) < 0);
    CHECK(k2hbincmp(NULL, 0, NULL, 0) == 0);
    CHECK(k2hbincmp(NULL, 0, (const unsigned char*)"a", 1) == -1);
    unsigned char *d = k2hbindup((const unsigned char*)"xyz", 3);
    CHECK(d && memcmp(d, "xyz", 3) == 0);
    size_t len = 0;
    unsigned char *c = k2hbinappendstr(d, 3, "w", &len);
    CHECK(c && len == 5 && memcmp(c, "xyzw", 5) == 0);
    free(c); free(d);
    CHECK(k2hbindup(NULL, 3) == NULL);
    char p[512], rb[16] = {0};
    path_in_tmp(p, sizeof p, "io.bin");
    int fd = open(p, O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && k2h_pwrite(fd, "0123456789", 10, 4) == 10);
    CHECK(k2h_pread(fd, rb, 16, 6) == 8 && memcmp(rb, "23456789", 8) == 0);
    CHECK(k2h_pread(-1, rb, 1, 0) == -1 && k2h_pwrite(fd, NULL, 1, 0) == -1);
    close(fd);
}

static void test_debug(void)
{
    char p[512];
    path_in_tmp(p, sizeof p, "dbg.log");
    CHECK(k2h_set_debug_file(p));
    k2h_set_debug_level_error();
    CHECK(GetK2hDbgMode() == K2HDBG_ERR);
    CHECK(debug_mode == K2HDBG_ERR);
    CHECK(!k2h_close(0));
    CHECK(k2h_unset_debug_file());
    FILE *fp = fopen(p, "r");
    char line[256] = {0};
    CHECK(fp && fgets(line, sizeof line, fp) && strncmp(line, "[ERR] k2h_close_wait", 20) == 0);
    if (fp) fclose(fp);
    k2h_bump_debug_level();
    CHECK(GetK2hDbgMode() == K2HDBG_WARN);
    k2h_set_debug_level_silent();
    setenv("K2HDBGMODE", "MSG", 1);
    CHECK(!k2h_load_debug_env());
    setenv("K2HDBGMODE", "INFO", 1);
    CHECK(k2h_load_debug_env());
    CHECK(GetK2hDbgMode() == K2HDBG_MSG);
    k2h_set_debug_level_silent();
    CHECK(k2h_set_bumpup_debug_signal_user1());
    kill(getpid(), SIGUSR1);
    CHECK(GetK2hDbgMode() == K2HDBG_ERR);
    k2h_set_debug_level_silent();
    CHECK(SetK2hDbgMode(K2HDBG_WARN) == K2HDBG_SILENT);
    CHECK(SetK2hDbgMode((K2hDbgMode)5) == K2HDBG_WARN && GetK2hDbgMode() == K2HDBG_WARN);
    CHECK(!SetK2hDbgFile(""));
    k2h_set_debug_level_silent();
}

static void test_dump(k2h_h h)
{
    char p[512];
    path_in_tmp(p, sizeof p, "dump.txt");
    FILE *fp = fopen(p, "w+");
    CHECK(k2h_dump_head(h, fp));
    CHECK(k2h_dump_elementtable(h, fp));
    CHECK(k2h_dump_full(h, fp));
    CHECK(k2h_print_state(h, fp));
    k2h_print_version(fp);
    rewind(fp);
    char line[512];
    int saw_version = 0, saw_kindex = 0, saw_state = 0;
    while (fgets(line, sizeof line, fp)) {
        if (strstr(line, "  Version                 = K2H V2")) saw_version = 1;
        if (strstr(line, "Key Index Pointer[8][127] = {")) saw_kindex = 1;
        if (strstr(line, "Total Element           = 16384")) saw_state = 1;
    }
    fclose(fp);
    CHECK(saw_version && saw_kindex && saw_state);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/k2hrs-ctest-XXXXXX");
    if (!mkdtemp(tmpdir)) return 2;
    setenv("K2H_LOCKDIR", tmpdir, 1);
    k2h_h h = k2h_open_mem(8, 4, 32, 128);
    CHECK(h != K2H_INVALID_HANDLE);
    test_values(h);
    test_callback(h);
    test_subkeys(h);
    test_attrs(h);
    test_rename_find(h);
    test_dump(h);
    CHECK(k2h_close(h));
    test_bad_input();
    test_files();
    test_hash_and_utils();
    test_debug();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) return 2;
    CHECK_DONE("test_capi");
}
