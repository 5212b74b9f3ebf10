/*
 * dkc_macros: the name macros of k2hdkc.h that programs use on response codes and queue types
 * (the Go binding k2hdkc_go wraps STR_DKCRES_RESULT_TYPE and STR_DKCRES_SUBCODE_TYPE in C
 * functions, so they must exist as macros of the header). No cluster needed.
 */
#include <stdio.h>
#include <string.h>
#include "k2hdkc.h"

static int failures;
#define SAME(got, want)                                                            \
    do {                                                                           \
        const char *g_ = (got);                                                    \
        if (strcmp(g_, (want)) != 0) {                                             \
            fprintf(stderr, "dkc_macros: %s:%d: %s is %s, want %s\n", __FILE__,    \
                    __LINE__, #got, g_, (want));                                   \
            failures++;                                                            \
        }                                                                          \
    } while (0)

int main(void)
{
    dkcres_type_t nodata = COMPOSE_DKC_RES(DKC_RES_SUCCESS, DKC_RES_SUBCODE_NODATA);
    dkcres_type_t empty = COMPOSE_DKC_RES(DKC_RES_ERROR, DKC_RES_SUBCODE_GETPOPQUEUENAME);
    SAME(STR_DKCRES_RESULT_TYPE(DKC_INITRESTYPE), "DKC_RES_SUCCESS");
    SAME(STR_DKCRES_SUBCODE_TYPE(DKC_INITRESTYPE), "DKC_RES_SUBCODE_NOTHING");
    SAME(STR_DKCRES_RESULT_TYPE(nodata), "DKC_RES_SUCCESS");
    SAME(STR_DKCRES_SUBCODE_TYPE(nodata), "DKC_RES_SUBCODE_NODATA");
    SAME(STR_DKCRES_RESULT_TYPE(empty), "DKC_RES_ERROR");
    SAME(STR_DKCRES_SUBCODE_TYPE(empty), "DKC_RES_SUBCODE_GETPOPQUEUENAME");
    SAME(STR_DKCRES_SUBCODE_TYPE(0x8000000000000017ULL), "DKC_RES_SUBCODE_NOTSAMEVAL");
    SAME(STR_DKCRES_SUBCODE_TYPE(0x1cULL), "DKC_RES_SUBCODE_NOSERVERNODE");
    SAME(STR_DKCRES_RESULT_TYPE(DKC_NORESTYPE), "DKC_RES_NORESTYPE");
    SAME(STR_DKCRES_SUBCODE_TYPE(DKC_NORESTYPE), "DKC_RES_SUBCODE_NORESTYPE");
    SAME(STR_DKCRES_RESULT_TYPE(0x1234567800000000ULL), "UNKNOWN_DKC_RES_TYPE");
    SAME(STR_DKCRES_SUBCODE_TYPE(0x1dULL), "UNKNOWN_DKC_RES_SUBCODE_TYPE");
    SAME(STR_DKC_QUEUE_TYPE(DKC_QUEUE_TYPE_NOTQUEUE), "DKC_QUEUE_TYPE_NOTQUEUE");
    SAME(STR_DKC_QUEUE_TYPE(DKC_QUEUE_TYPE_KEYQUEUE), "DKC_QUEUE_TYPE_KEYQUEUE");
    SAME(STR_DKC_QUEUE_TYPE(3), "UNKNOWN_DKC_QUEUE_TYPE");
    if (!IS_DKC_QUEUE_TYPE(DKC_QUEUE_TYPE_QUEUE) || IS_DKC_QUEUE_TYPE(DKC_QUEUE_TYPE_NOTQUEUE) ||
        !IS_SAFE_DKC_QUEUE_TYPE(DKC_QUEUE_TYPE_MAX) || IS_SAFE_DKC_QUEUE_TYPE(DKC_QUEUE_TYPE_MAX + 1)) {
        fprintf(stderr, "dkc_macros: queue type checks\n");
        failures++;
    }
    if (failures) return 1;
    puts("dkc_macros: ok");
    return 0;
}
