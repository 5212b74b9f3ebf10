/* libchmpx functions that need no running chmpx: key/value serialisation and hashes, chmpxids,
 * versions, debug level and file, the file and configuration helpers, the hash library, and
 * every handle function with NULL / zero / made-up handles (false or invalid, never a crash),
 * chmpx_create with a bad configuration or no chmpx running (all ones).
 * CHMPX_TEST_HASHLIB names the test hash plugin (djb2, c-tests/plugins/testhash.c). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "chmpx.h"
#include "chmdbg.h"
#include "chmhash.h"
#include "chmutil.h"
#include "chmconfutil.h"
#include "../check.h"

static char tmpdir[256];

static void tmp_path(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", tmpdir, name); }

static uint64_t be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

static void test_kvp(void)
{
    unsigned char key[] = "key1";
    unsigned char val[] = "value-1";
    CHMKVP kvp = {{key, 5}, {val, 7}};
    size_t len = 0;
    unsigned char *bin = cvt_kvp_bin(&kvp, &len);
    CHECK(bin != NULL && len == 16 + 5 + 7);
    if (!bin) return;
    CHECK(be64(bin) == 5 && memcmp(bin + 8, "key1", 5) == 0);
    CHECK(be64(bin + 13) == 7 && memcmp(bin + 21, "value-1", 7) == 0);

    CHMKVP out;
    memset(&out, 0xff, sizeof(out));
    CHECK(cvt_bin_kvp(&out, bin, len));
    CHECK(out.key.byptr == bin + 8 && out.key.length == 5);
    CHECK(out.val.byptr == bin + 21 && out.val.length == 7);
    /* lengths that run past the end, too short, NULL */
    CHECK(!cvt_bin_kvp(&out, bin, len - 1));
    CHECK(!cvt_bin_kvp(&out, bin, 15));
    CHECK(!cvt_bin_kvp(NULL, bin, len));
    CHECK(!cvt_bin_kvp(&out, NULL, len));
    free(bin);

    /* empty key and value: 16 bytes, NULL pointers when parsed */
    CHMKVP empty = {{NULL, 0}, {NULL, 0}};
    bin = cvt_kvp_bin(&empty, &len);
    CHECK(bin != NULL && len == 16);
    if (bin) {
        memset(&out, 0xff, sizeof(out));
        CHECK(cvt_bin_kvp(&out, bin, len));
        CHECK(out.key.byptr == NULL && out.key.length == 0);
        CHECK(out.val.byptr == NULL && out.val.length == 0);
        free(bin);
    }
    unsigned char huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0};
    CHECK(!cvt_bin_kvp(&out, huge, sizeof(huge)));
    CHECK(cvt_kvp_bin(NULL, &len) == NULL);
    CHECK(cvt_kvp_bin(&kvp, NULL) == NULL);
    CHMKVP bad = {{NULL, 4}, {NULL, 0}};
    CHECK(cvt_kvp_bin(&bad, &len) == NULL);

    /* hashes: FNV-1a of the key bytes, as libk2hash */
    CHMBIN b = {key, 5};
    CHECK(make_chmbin_hash(&b) == 0x7172B3F29643AA65ULL);
    CHECK(make_kvp_hash(&kvp) == 0x7172B3F29643AA65ULL);
    CHECK(make_chmbin_hash(NULL) == 0);
    CHECK(make_kvp_hash(NULL) == 0);
    CHECK(make_kvp_hash(&empty) == 0);
}

static void test_ids_versions(void)
{
    CHECK(MakeChmpxId("EXPG", CHMPXID_SEED_NAME, "vm", 8021, NULL, NULL, NULL) == 0x232e14b7ba0c76d8ULL);
    CHECK(MakeBaseMsgId("EXPG", CHMPXID_SEED_NAME, "vm", 8021, NULL, NULL, NULL) == 0x232e14b700000000ULL);
    CHECK(MakeChmpxId("EXPG", CHMPXID_SEED_NAME, NULL, 8021, NULL, NULL, NULL) == 0);
    CHECK(MakeChmpxId(NULL, CHMPXID_SEED_NAME, "vm", 8021, NULL, NULL, NULL) == 0);
    CHECK(MakeChmpxId("EXPG", (CHMPXID_SEED_TYPE)9, "vm", 8021, NULL, NULL, NULL) == 0);
    /* MakeChmpxId always wants a host name; MakeBaseMsgId only what the seed type needs */
    CHECK(MakeChmpxId("EXPG", CHMPXID_SEED_CUK, "", 0, "cuk", NULL, NULL) == 0);
    CHECK(MakeBaseMsgId("EXPG", CHMPXID_SEED_CUK, NULL, 0, "cuk", NULL, NULL) != 0);
    CHECK(MakeChmpxId("EXPG", CHMPXID_SEED_CUK, "vm", 0, NULL, NULL, NULL) == 0);

    CHECK(strncmp(chmpx_get_version(), "Version 1.0.113 (commit: ", 25) == 0);
    CHECK_STR(chmpx_get_raw_version(false), "1.0.113");
    CHECK(chmpx_get_raw_version(true) != NULL && chmpx_get_raw_version(true)[0] != 0);
    CHECK(chmpx_get_bin_version() == 0x0000000100000071ULL);
    char path[512];
    tmp_path(path, sizeof(path), "version.txt");
    FILE *f = fopen(path, "w+");
    CHECK(f != NULL);
    if (f) {
        chmpx_print_version(f);
        rewind(f);
        char buf[2048] = {0};
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        CHECK(n > 100 && strstr(buf, "\nCHMPX Version 1.0.113 (commit: ") == buf);
        CHECK(strstr(buf, "Copyright(C) 2014 Yahoo Japan Corporation.") != NULL);
        fclose(f);
    }
}

static void test_bad_handles(void)
{
    const chmpx_h bad[] = {0, CHM_INVALID_CHMPXHANDLE, 0x1234, 0x43484D5000000001ULL + 999};
    unsigned char body[] = "body";
    unsigned char key[] = "k";
    CHMKVP kvp = {{key, 1}, {body, 4}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        chmpx_h h = bad[i];
        chmpx_pkt_h pkt = 77;
        unsigned char *pb = (unsigned char *)&pkt;
        size_t bl = 9;
        long cnt = 5;
        CHECK(!chmpx_destroy(h));
        CHECK(!is_chmpx_proc_exists(h));
        CHECK(!chmpx_svr_send(h, body, 4, 1, true));
        CHECK(!chmpx_svr_send_kvp(h, &kvp, false));
        CHECK(!chmpx_svr_send_kvp_ex(h, &kvp, false, true));
        CHECK(!chmpx_svr_send_kv(h, key, 1, body, 4, true));
        CHECK(!chmpx_svr_send_kv_ex(h, key, 1, body, 4, true, true));
        CHECK(!chmpx_svr_broadcast(h, body, 4, 1));
        CHECK(!chmpx_svr_broadcast_ex(h, body, 4, 1, true));
        CHECK(!chmpx_svr_replicate(h, body, 4, 1));
        CHECK(!chmpx_svr_replicate_ex(h, body, 4, 1, false));
        CHECK(!chmpx_svr_receive(h, &pkt, &pb, &bl, 0, false));
        CHECK(chmpx_open(h, false) == CHM_INVALID_MSGID);
        CHECK(!chmpx_close(h, 1));
        CHECK(!chmpx_msg_send(h, 1, body, 4, 1, &cnt, true));
        CHECK(!chmpx_msg_send_kvp(h, 1, &kvp, &cnt, true));
        CHECK(!chmpx_msg_send_kv(h, 1, key, 1, body, 4, NULL, false));
        CHECK(!chmpx_msg_broadcast(h, 1, body, 4, 1, &cnt));
        CHECK(!chmpx_msg_replicate(h, 1, body, 4, 1, &cnt));
        CHECK(!chmpx_msg_receive(h, 1, &pkt, NULL, NULL, 0));
        CHECK(!chmpx_msg_reply(h, pkt, body, 4));
        CHECK(!chmpx_msg_reply_kvp(h, pkt, &kvp));
        CHECK(!chmpx_msg_reply_kv(h, pkt, key, 1, body, 4));
        CHECK(cnt == 5);
    }
    /* packet handles the library did not give out */
    CHECK(!chmpx_pkth_destroy(0));
    CHECK(!chmpx_pkth_destroy(0x1000));
    COMPKT fake;
    memset(&fake, 0, sizeof(fake));
    CHECK(!chmpx_pkth_destroy((chmpx_pkt_h)(uintptr_t)&fake));
}

static void test_create_failures(void)
{
    CHECK(chmpx_create(NULL, true, false) == CHM_INVALID_CHMPXHANDLE);
    CHECK(chmpx_create("", false, false) == CHM_INVALID_CHMPXHANDLE);
    CHECK(chmpx_create_ex(NULL, true, true, NULL, NULL, NULL) == CHM_INVALID_CHMPXHANDLE);
    CHECK(chmpx_create("/nonexistent/chmpx.ini", true, false) == CHM_INVALID_CHMPXHANDLE);
    CHECK(chmpx_create("{ this is not json", false, false) == CHM_INVALID_CHMPXHANDLE);
    /* the environment is not consulted for an empty configuration */
    setenv("CHMJSONCONF", "{\"GLOBAL\":{}}", 1);
    CHECK(chmpx_create("", false, false) == CHM_INVALID_CHMPXHANDLE);
    unsetenv("CHMJSONCONF");

    /* a good configuration, but no chmpx of that group is running */
    char path[512];
    tmp_path(path, sizeof(path), "nochmpx.ini");
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f,
            "[GLOBAL]\nFILEVERSION = 1\nGROUP = NOCHMPX%d\nDELIVERMODE = hash\nMAXCHMPX = 4\n"
            "REPLICA = 0\nMAXMQSERVER = 2\nMAXMQCLIENT = 8\nMQPERATTACH = 1\nMAXMQPERCLIENT = 2\n"
            "SELFCTLPORT = 1\nDOMERGE = on\nAUTOMERGE = on\nSSL = no\n"
            "[SVRNODE]\nNAME = 127.0.0.1\nPORT = 2\nCTLPORT = 1\n"
            "[SLVNODE]\nNAME = [.]*\nCTLPORT = 3\n",
            (int)getpid());
    fclose(f);
    CHECK(chmpx_create(path, true, false) == CHM_INVALID_CHMPXHANDLE);
    CHECK(chmpx_create(path, false, true) == CHM_INVALID_CHMPXHANDLE);
}

static void test_debug(void)
{
    CHECK(GetChmDbgMode() == CHMDBG_SILENT);
    CHECK(SetChmDbgMode(CHMDBG_WARN) == CHMDBG_SILENT);
    CHECK(chm_debug_mode == CHMDBG_WARN);
    CHECK(BumpupChmDbgMode() == CHMDBG_WARN);
    CHECK(GetChmDbgMode() == CHMDBG_MSG);
    chmpx_bump_debug_level();
    CHECK(GetChmDbgMode() == CHMDBG_DUMP);
    chmpx_bump_debug_level();
    CHECK(GetChmDbgMode() == CHMDBG_SILENT);
    chmpx_set_debug_level_error();
    CHECK(chm_debug_mode == CHMDBG_ERR);
    chmpx_set_debug_level_warning();
    CHECK(chm_debug_mode == CHMDBG_WARN);
    chmpx_set_debug_level_message();
    CHECK(chm_debug_mode == CHMDBG_MSG);

    /* a debug file gets both our lines and those of the chmdbg.h macros */
    char path[512];
    tmp_path(path, sizeof(path), "debug.log");
    chmpx_set_debug_level_error();
    CHECK(chmpx_set_debug_file(path));
    CHECK(chm_dbg_fp != NULL);
    ERR_CHMPRN("from the C macro %d", 42);
    CHECK(!chmpx_destroy(0x777)); /* logs an error line */
    CHECK(chmpx_unset_debug_file());
    CHECK(chm_dbg_fp == NULL);
    char buf[4096] = {0};
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (f) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        (void)n;
        fclose(f);
    }
    CHECK(strstr(buf, "[CHMPX-ERR] test_debug(") != NULL && strstr(buf, "from the C macro 42") != NULL);
    CHECK(strstr(buf, "[CHMPX-ERR] ") != NULL && strstr(buf, "invalid chmpx handle 0x0000000000000777") != NULL);
    CHECK(!SetChmDbgFile(NULL) && !SetChmDbgFile(""));
    CHECK(chmpx_set_debug_file(NULL) && chmpx_set_debug_file(""));
    CHECK(UnsetChmDbgFile());

    /* the environment */
    setenv("CHMDBGMODE", "dump", 1);
    CHECK(chmpx_load_debug_env() && GetChmDbgMode() == CHMDBG_DUMP);
    setenv("CHMDBGMODE", "INFO", 1);
    CHECK(LoadChmDbgEnv() && GetChmDbgMode() == CHMDBG_MSG);
    setenv("CHMDBGMODE", "loud", 1);
    CHECK(!chmpx_load_debug_env() && GetChmDbgMode() == CHMDBG_MSG);
    unsetenv("CHMDBGMODE");
    setenv("CHMDBGFILE", path, 1);
    CHECK(chmpx_load_debug_env() && chm_dbg_fp != NULL);
    unsetenv("CHMDBGFILE");
    CHECK(chmpx_unset_debug_file());
    /* an undefined mode is refused */
    CHECK(SetChmDbgMode((ChmDbgMode)2) == CHMDBG_MSG && GetChmDbgMode() == CHMDBG_MSG);
    chmpx_set_debug_level_silent();
}

static void test_files(void)
{
    char path[512], bup[600];
    tmp_path(path, sizeof(path), "data");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK(chm_pwrite(fd, "hello world", 11, 4) == 11);
    char buf[32] = {0};
    CHECK(chm_pread(fd, buf, 11, 4) == 11 && memcmp(buf, "hello world", 11) == 0);
    CHECK(chm_pread(fd, buf, 32, 10) == 5); /* stops at the end of the file */
    CHECK(chm_pread(fd, NULL, 4, 0) == -1);
    CHECK(chm_pread(-1, buf, 4, 0) == -1);
    size_t sz = 0;
    CHECK(get_file_size(path, &sz) && sz == 15);
    CHECK(!get_file_size(path, NULL) && !get_file_size(NULL, &sz));
    CHECK(truncate_filling_zero(fd, 10000, 4096));
    CHECK(get_file_size(path, &sz) && sz == 10000);
    CHECK(chm_pread(fd, buf, 8, 5000) == 8 && memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0);
    CHECK(!truncate_filling_zero(fd, 0, 4096) && !truncate_filling_zero(-1, 10, 4096));
    CHECK(!truncate_filling_zero(fd, 10, 0));
    close(fd);

    /* chm_read: what a pipe holds */
    int p[2];
    CHECK(pipe(p) == 0);
    char big[6000];
    memset(big, 'x', sizeof(big));
    CHECK(write(p[1], big, sizeof(big)) == (ssize_t)sizeof(big));
    close(p[1]);
    size_t rd = 0;
    unsigned char *got = chm_read(p[0], &rd);
    CHECK(got != NULL && rd == sizeof(big) && memcmp(got, big, rd) == 0);
    free(got);
    close(p[0]);
    CHECK(chm_read(-1, &rd) == NULL && chm_read(0, NULL) == NULL);

    CHECK(is_file_exist(path) && is_file_safe_exist(path) && is_file_safe_exist_ex(path, false));
    CHECK(is_file_exist(tmpdir) && !is_file_safe_exist(tmpdir) && is_dir_exist(tmpdir));
    CHECK(!is_dir_exist(path) && !is_file_exist(NULL) && !is_file_exist(""));
    CHECK(!is_dir_exist(NULL) && !is_file_safe_exist(NULL));

    /* backups: data.bup, then data.bup.0 */
    CHECK(move_file_to_backup(path, "bup"));
    snprintf(bup, sizeof(bup), "%s.bup", path);
    CHECK(!is_file_exist(path) && is_file_exist(bup));
    fd = open(path, O_RDWR | O_CREAT, 0600);
    close(fd);
    CHECK(move_file_to_backup(path, "bup"));
    snprintf(bup, sizeof(bup), "%s.bup.0", path);
    CHECK(is_file_exist(bup));
    CHECK(!move_file_to_backup(path, "bup")); /* no such file now */
    CHECK(!move_file_to_backup(NULL, "bup") && !move_file_to_backup(bup, NULL));

    /* configuration helpers */
    CHECK(right_check_json_string("{\"GLOBAL\":{}}") && right_check_json_string(" \t\\ ["));
    CHECK(right_check_json_string("'a'") && right_check_json_string("\v:"));
    CHECK(!right_check_json_string("/etc/chmpx.ini") && !right_check_json_string("") &&
          !right_check_json_string(NULL));
    unsetenv("CHMCONFFILE");
    unsetenv("CHMJSONCONF");
    CHECK(!have_env_chm_conf());
    setenv("CHMCONFFILE", "", 1);
    CHECK(!have_env_chm_conf());
    setenv("CHMJSONCONF", "{}", 1);
    CHECK(have_env_chm_conf());
    unsetenv("CHMJSONCONF");
    unsetenv("CHMCONFFILE");
}

static uint64_t djb2(const unsigned char *b, size_t n)
{
    uint64_t h = 5381;
    for (size_t i = 0; i < n; i++) h = h * 33 + b[i];
    return h;
}

static void test_hash_library(void)
{
    const char *lib = getenv("CHMPX_TEST_HASHLIB");
    unsigned char key[] = "key1";
    CHMBIN b = {key, 5};
    CHECK(!chmpx_load_hash_library(NULL) && !chmpx_load_hash_library(""));
    CHECK(!chmpx_load_hash_library("/nonexistent/libhash.so"));
    CHECK(make_chmbin_hash(&b) == 0x7172B3F29643AA65ULL);
    if (!lib) {
        printf("test_chmpx_funcs: CHMPX_TEST_HASHLIB not set, hash library not tried\n");
        return;
    }
    CHECK(chmpx_load_hash_library(lib));
    CHECK(make_chmbin_hash(&b) == djb2(key, 5));
    /* chmpxids follow the hash library too */
    CHECK(MakeChmpxId("EXPG", CHMPXID_SEED_NAME, "vm", 8021, NULL, NULL, NULL) != 0x232e14b7ba0c76d8ULL);
    CHECK(chmpx_unload_hash_library());
    CHECK(make_chmbin_hash(&b) == 0x7172B3F29643AA65ULL);
    CHECK(MakeChmpxId("EXPG", CHMPXID_SEED_NAME, "vm", 8021, NULL, NULL, NULL) == 0x232e14b7ba0c76d8ULL);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/chmpx-capi-test-%d", (int)getpid());
    mkdir(tmpdir, 0700);
    test_kvp();
    test_ids_versions();
    test_bad_handles();
    test_create_failures();
    test_debug();
    test_files();
    test_hash_library();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    CHECK(system(cmd) == 0);
    CHECK_DONE("test_chmpx_funcs");
}
