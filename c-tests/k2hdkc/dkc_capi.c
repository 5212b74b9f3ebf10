/*
 * dkc_capi: libk2hdkc against a running cluster (tests/k2hdkc/faults.sh starts one): values,
 * removal, rename (with a parent), CAS (with attributes), subkeys, set_all, queues, node
 * states, debug and communication log, through permanent and one-time sessions, with the
 * original's return conventions (a primitive request returns true when an answer arrived, the
 * code tells the rest; _str/_direct getters return false/NULL when there is no value).
 *
 *   dkc_capi SLAVE_CONF
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "k2hdkc.h"

static int failures;
#define CHECK(c)                                                           \
    do {                                                                   \
        if (!(c)) {                                                        \
            fprintf(stderr, "dkc_capi: %s:%d: %s\n", __FILE__, __LINE__, #c); \
            failures++;                                                    \
        }                                                                  \
    } while (0)

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: dkc_capi SLAVE_CONF\n");
        return 2;
    }
    const char *conf = argv[1];
    CHECK(k2hdkc_get_lastres_code() == DKC_NORESTYPE || k2hdkc_get_lastres_code() != 0 || 1);
    CHECK(K2HDKC_INVALID_HANDLE == k2hdkc_open_chmpx(NULL));
    CHECK(!k2hdkc_close_chmpx(0));
    CHECK(!k2hdkc_pm_set_str_value(12345, "x", "y"));

    k2hdkc_chmpx_h h = k2hdkc_open_chmpx(conf);
    CHECK(h != K2HDKC_INVALID_HANDLE);
    CHECK(k2hdkc_get_res_code(h) == DKC_NORESTYPE);

    /* values */
    CHECK(k2hdkc_pm_set_str_value(h, "capi-key", "capi-value"));
    CHECK(k2hdkc_is_res_success(h));
    char *v = k2hdkc_pm_get_str_direct_value(h, "capi-key");
    CHECK(v && 0 == strcmp(v, "capi-value"));
    free(v);
    unsigned char *bv = NULL;
    size_t blen = 99;
    CHECK(k2hdkc_pm_get_value(h, (const unsigned char *)"none", 5, &bv, &blen));
    CHECK(bv == NULL && blen == 0);
    CHECK(k2hdkc_get_res_subcode(h) == DKC_RES_SUBCODE_NODATA);
    CHECK(!k2hdkc_pm_get_str_value(h, "none", &v));
    /* one-time sessions */
    CHECK(k2hdkc_set_str_value(conf, "once", "value"));
    v = k2hdkc_full_get_str_direct_value(conf, -1, NULL, false, false, "once");
    CHECK(v && 0 == strcmp(v, "value"));
    free(v);
    CHECK(k2hdkc_is_lastres_success());
    /* rename and remove */
    CHECK(k2hdkc_pm_rename_str(h, "capi-key", "capi-renamed"));
    v = k2hdkc_pm_get_str_direct_value(h, "capi-renamed");
    CHECK(v && 0 == strcmp(v, "capi-value"));
    free(v);
    CHECK(NULL == k2hdkc_pm_get_str_direct_value(h, "capi-key"));
    CHECK(k2hdkc_pm_rename_str(h, "capi-key", "again"));
    CHECK(k2hdkc_get_res_code(h) == COMPOSE_DKC_RES(DKC_RES_ERROR, DKC_RES_SUBCODE_NODATA));
    CHECK(k2hdkc_pm_remove_str(h, "capi-renamed"));
    CHECK(NULL == k2hdkc_pm_get_str_direct_value(h, "capi-renamed"));
    /* CAS */
    uint32_t u = 0;
    CHECK(k2hdkc_pm_cas32_str_init(h, "counter", 41));
    CHECK(k2hdkc_pm_cas_str_increment(h, "counter"));
    CHECK(k2hdkc_pm_cas32_str_get(h, "counter", &u) && u == 42);
    CHECK(k2hdkc_pm_cas32_str_set(h, "counter", 1, 2));
    CHECK(k2hdkc_get_res_code(h) == COMPOSE_DKC_RES(DKC_RES_ERROR, DKC_RES_SUBCODE_NOTSAMEVAL));
    CHECK(k2hdkc_pm_cas32_str_set(h, "counter", 42, 7));
    CHECK(k2hdkc_pm_cas32_str_get(h, "counter", &u) && u == 7);
    uint64_t u64 = 0;
    CHECK(!k2hdkc_pm_cas64_str_get(h, "counter", &u64));

    /* subkeys, rename with a parent */
    CHECK(k2hdkc_pm_set_str_value(h, "parent", "p"));
    CHECK(k2hdkc_pm_set_str_subkey(h, "parent", "sub1", "v1"));
    char **sk = k2hdkc_pm_get_str_direct_subkeys(h, "parent");
    CHECK(sk && sk[0] && 0 == strcmp(sk[0], "sub1") && !sk[1]);
    k2h_free_keyarray(sk);
    CHECK(k2hdkc_pm_rename_with_parent_str(h, "sub1", "sub2", "parent"));
    sk = k2hdkc_pm_get_str_direct_subkeys(h, "parent");
    CHECK(sk && sk[0] && 0 == strcmp(sk[0], "sub2") && !sk[1]);
    k2h_free_keyarray(sk);
    v = k2hdkc_pm_get_str_direct_value(h, "sub2");
    CHECK(v && 0 == strcmp(v, "v1"));
    free(v);
    /* a parent that does not exist yet gets a list with the new name (as the original) */
    CHECK(k2hdkc_pm_rename_with_parent_str(h, "sub2", "sub3", "new-parent"));
    sk = k2hdkc_pm_get_str_direct_subkeys(h, "new-parent");
    CHECK(sk && sk[0] && 0 == strcmp(sk[0], "sub3") && !sk[1]);
    k2h_free_keyarray(sk);
    CHECK(k2hdkc_pm_remove_str_all(h, "new-parent"));
    CHECK(NULL == k2hdkc_pm_get_str_direct_value(h, "sub3"));
    /* CAS with attributes */
    time_t expire = 600;
    uint64_t c64 = 0;
    CHECK(k2hdkc_pm_cas64_str_init_wa(h, "cas-wa", 5, NULL, &expire));
    CHECK(k2hdkc_pm_cas_str_increment_wa(h, "cas-wa", NULL, &expire));
    CHECK(k2hdkc_pm_cas64_str_get_wa(h, "cas-wa", NULL, &c64) && c64 == 6);
    CHECK(k2hdkc_pm_cas64_str_set_wa(h, "cas-wa", 6, 9, NULL, NULL));
    CHECK(k2hdkc_pm_cas64_str_get(h, "cas-wa", &c64) && c64 == 9);
    uint8_t c8 = 0;
    CHECK(k2hdkc_pm_cas8_str_init(h, "cas8", 255));
    CHECK(k2hdkc_pm_cas_str_increment(h, "cas8"));
    CHECK(k2hdkc_pm_cas8_str_get(h, "cas8", &c8) && c8 == 0);
    /* set_all_wa: the binary form keeps the original's first-byte quirk, _str does not */
    CHECK(k2hdkc_pm_set_all_wa(h, (const unsigned char *)"allwa", 6, (const unsigned char *)"LONGVALUE", 10, NULL, 0, NULL, NULL));
    bv = NULL;
    CHECK(k2hdkc_pm_get_value(h, (const unsigned char *)"allwa", 6, &bv, &blen));
    CHECK(bv && blen == 1 && bv[0] == 'L');
    free(bv);
    const char *skeys[] = {"s1", "s2", NULL};
    CHECK(k2hdkc_pm_set_str_all_wa(h, "allwa-str", "LONGVALUE", skeys, NULL, NULL));
    v = k2hdkc_pm_get_str_direct_value(h, "allwa-str");
    CHECK(v && 0 == strcmp(v, "LONGVALUE"));
    free(v);
    sk = k2hdkc_pm_get_str_direct_subkeys(h, "allwa-str");
    CHECK(sk && sk[0] && sk[1] && !sk[2]);
    k2h_free_keyarray(sk);
    /* queues */
    const char *qv = NULL;
    CHECK(k2hdkc_pm_q_str_push(h, "queue", "first", true));
    CHECK(k2hdkc_pm_q_str_push(h, "queue", "second", true));
    CHECK(k2hdkc_pm_q_str_pop(h, "queue", true, &qv) && qv && 0 == strcmp(qv, "first"));
    free((void *)qv);
    CHECK(k2hdkc_pm_q_str_pop(h, "queue", true, &qv) && qv && 0 == strcmp(qv, "second"));
    free((void *)qv);
    CHECK(k2hdkc_pm_q_str_pop(h, "queue", true, &qv) && qv == NULL);
    CHECK(k2hdkc_get_res_code(h) == COMPOSE_DKC_RES(DKC_RES_ERROR, DKC_RES_SUBCODE_GETPOPQUEUENAME));
    /* node states: one record per server, 1333 bytes each */
    CHECK(sizeof(DKC_NODESTATE) == 1333);
    PDKC_NODESTATE st = NULL;
    size_t stcount = 0;
    CHECK(k2hdkc_pm_get_state(h, &st, &stcount));
    CHECK(st && stcount == 3);
    for (size_t i = 0; st && i < stcount; i++) {
        CHECK(st[i].chmpxid != 0 && st[i].name[0] != '\0');
        CHECK(st[i].k2hstate.version[0] != '\0');
    }
    free(st);
    /* debug and communication log */
    k2hdkc_set_debug_level_warning();
    CHECK(k2hdkc_debug_mode == DKCDBG_WARN);
    k2hdkc_bump_debug_level();
    CHECK(GetK2hdkcDbgMode() == DKCDBG_MSG);
    k2hdkc_set_debug_level_silent();
    char dpath[] = "/tmp/dkc_capi_dbg.XXXXXX";
    int dfd = mkstemp(dpath);
    CHECK(dfd >= 0);
    CHECK(k2hdkc_set_debug_file(dpath));
    CHECK(k2hdkc_dbg_fp != NULL && GetK2hdkcDbgFile() && 0 == strcmp(GetK2hdkcDbgFile(), dpath));
    k2hdkc_enable_comlog();
    CHECK(k2hdkc_is_enable_comlog());
    CHECK(k2hdkc_pm_set_str_value(h, "logged", "x"));
    k2hdkc_toggle_comlog();
    CHECK(!k2hdkc_is_enable_comlog());
    CHECK(k2hdkc_set_debug_file(NULL));
    CHECK(k2hdkc_dbg_fp == NULL);
    char dbuf[512] = {0};
    FILE *df = fopen(dpath, "r");
    CHECK(df && fread(dbuf, 1, sizeof(dbuf) - 1, df) > 0);
    if (df) fclose(df);
    CHECK(strstr(dbuf, "[DKC-COM(") && strstr(dbuf, "Sent command: DKC_COM_SET(5)"));
    close(dfd);
    unlink(dpath);
    CHECK(0 == strcmp(STR_DKCCOM_TYPE(8), "DKC_COM_ADD_SUBKEY"));
    CHECK(0 == strcmp(STR_DKCCOM_TYPE(1000), "UNKNOWN_DKC_COM_TYPE"));
    char *vtext = NULL;
    size_t vsize = 0;
    FILE *mf = open_memstream(&vtext, &vsize);
    k2hdkc_print_version(mf);
    fclose(mf);
    CHECK(vtext && strstr(vtext, "K2hdkc Version") && strstr(vtext, "K2HASH") && strstr(vtext, "CHMPX"));
    free(vtext);
    CHECK(k2hdkc_close_chmpx(h));
    CHECK(!k2hdkc_close_chmpx(h));
    if (failures) {
        fprintf(stderr, "dkc_capi: %d failures\n", failures);
        return 1;
    }
    printf("dkc_capi: ok\n");
    return 0;
}
