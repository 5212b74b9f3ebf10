/*
 * dkc_capi: libk2hdkc against a running cluster (tests/k2hdkc/faults.sh starts one): values,
 * removal, rename and CAS through permanent and one-time sessions, with the original's return
 * conventions (a primitive request returns true when an answer arrived, the code tells the
 * rest; _str/_direct getters return false/NULL when there is no value).
 *
 *   dkc_capi SLAVE_CONF
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    CHECK(k2hdkc_close_chmpx(h));
    CHECK(!k2hdkc_close_chmpx(h));
    if (failures) {
        fprintf(stderr, "dkc_capi: %d failures\n", failures);
        return 1;
    }
    printf("dkc_capi: ok\n");
    return 0;
}
