/* libchmpx ABI: sizes and offsets of the structures of chmpx.h (those of the original on
 * x86-64, spec Appendix A), the constants, the exported variables, and the bool ABI (results are
 * a clean 0/1 in the whole register; bool arguments are one byte, any non-zero value is true). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <unistd.h>
#include "chmpx.h"
#include "chmdbg.h"
#include "chmhash.h"
#include "chmutil.h"
#include "chmconfutil.h"
#include "../check.h"

extern char chmpx_commit_hash[];

_Static_assert(sizeof(CHMBIN) == 16, "CHMBIN");
_Static_assert(sizeof(CHMKVP) == 32, "CHMKVP");
_Static_assert(offsetof(CHMKVP, key) == 0 && offsetof(CHMKVP, val) == 16, "CHMKVP offsets");
_Static_assert(sizeof(CHM_MERGE_GETPARAM) == 88, "CHM_MERGE_GETPARAM");
_Static_assert(offsetof(CHM_MERGE_GETPARAM, starthash) == 0, "starthash");
_Static_assert(offsetof(CHM_MERGE_GETPARAM, startts) == 8, "startts");
_Static_assert(offsetof(CHM_MERGE_GETPARAM, endts) == 24, "endts");
_Static_assert(offsetof(CHM_MERGE_GETPARAM, target_hash) == 40, "target_hash");
_Static_assert(offsetof(CHM_MERGE_GETPARAM, target_max_hash) == 48, "target_max_hash");
_Static_assert(offsetof(CHM_MERGE_GETPARAM, old_hash) == 56, "old_hash");
_Static_assert(offsetof(CHM_MERGE_GETPARAM, old_max_hash) == 64, "old_max_hash");
_Static_assert(offsetof(CHM_MERGE_GETPARAM, target_hash_range) == 72, "target_hash_range");
_Static_assert(offsetof(CHM_MERGE_GETPARAM, is_expire_check) == 80, "is_expire_check");
_Static_assert(sizeof(PCKID) == 16 && sizeof(COMHEAD) == 104 && sizeof(COMPKT) == 120, "COMPKT");
_Static_assert(offsetof(COMPKT, head) == 0, "head");
_Static_assert(offsetof(COMHEAD, c2ctype) == 16, "c2ctype");
_Static_assert(offsetof(COMHEAD, dept_ids) == 24 && offsetof(COMHEAD, term_ids) == 40, "ids");
_Static_assert(offsetof(COMHEAD, hash) == 80 && offsetof(COMHEAD, reqtime) == 88, "hash");
_Static_assert(offsetof(COMPKT, length) == 104 && offsetof(COMPKT, offset) == 112, "length");
_Static_assert(sizeof(ChmDbgMode) == 4 && sizeof(CHMPXID_SEED_TYPE) == 4, "enums");
_Static_assert(sizeof(chmpx_h) == 8 && sizeof(chmpx_pkt_h) == 8 && sizeof(msgid_t) == 8, "handles");
_Static_assert(sizeof(chmhash_t) == 8 && sizeof(msgflag_t) == 1, "ids");
_Static_assert(CHMDBG_SILENT == 0 && CHMDBG_ERR == 1 && CHMDBG_WARN == 3 && CHMDBG_MSG == 7 &&
               CHMDBG_DUMP == 15, "levels");
_Static_assert(CHMPXID_SEED_NAME == 0 && CHMPXID_SEED_CUK == 1 && CHMPXID_SEED_CTLENDPOINTS == 2 &&
               CHMPXID_SEED_CUSTOM == 3, "seed types");
_Static_assert(RCV_NO_WAIT == 0 && CHM_INVALID_HANDLE == -1, "constants");
_Static_assert(COM_C2C_NORMAL == 1 && COM_C2C_ROUTING == 2 && COM_C2C_BROADCAST == 3 &&
               COM_C2C_RBROADCAST == 4 && COM_C2C_NOT_SELF == 0x10, "c2c types");

typedef int (*int_str_fn)(const char *);
typedef int (*int_str_int_fn)(const char *, int);
typedef int (*int_u64_fn)(uint64_t);
typedef int (*int_void_fn)(void);

static void *sym(const char *name)
{
    void *p = dlsym(RTLD_DEFAULT, name);
    CHECK(p != NULL);
    return p;
}

int main(void)
{
    /* invalid values are all ones */
    CHECK(CHM_INVALID_CHMPXHANDLE == UINT64_MAX);
    CHECK(CHM_INVALID_MSGID == UINT64_MAX && CHM_INVALID_CHMPXID == UINT64_MAX);
    CHECK(CHM_INVALID_HASHVAL == UINT64_MAX);
    void (*freefn)(PK2HBIN) = CHM_FREE_CHMBIN;
    CHECK(freefn != NULL);

    /* bool results fill the whole register with 0 or 1, read through int prototypes */
    int_str_fn file_exist = (int_str_fn)sym("is_file_exist");
    int_u64_fn destroy = (int_u64_fn)sym("chmpx_destroy");
    int_u64_fn pkth_destroy = (int_u64_fn)sym("chmpx_pkth_destroy");
    int_void_fn unset_file = (int_void_fn)sym("chmpx_unset_debug_file");
    int_str_fn json = (int_str_fn)sym("right_check_json_string");
    if (file_exist && destroy && pkth_destroy && unset_file && json) {
        CHECK(file_exist("/") == 1);
        CHECK(file_exist("/nonexistent/chmpx") == 0);
        CHECK(destroy(0) == 0 && destroy(0x1234) == 0 && destroy(UINT64_MAX) == 0);
        CHECK(pkth_destroy(0) == 0 && pkth_destroy(0xdeadbeef) == 0);
        CHECK(unset_file() == 1);
        CHECK(json("{}") == 1 && json("x") == 0);
    }
    /* a bool argument given as an int other than 0/1 counts as true */
    int_str_int_fn safe_ex = (int_str_int_fn)sym("is_file_safe_exist_ex");
    if (safe_ex) {
        CHECK(safe_ex("/proc/self/status", 0x100 | 2) == 1);
        CHECK(safe_ex("/", 0) == 0);
    }

    /* exported variables */
    CHECK(chm_dbg_fp == NULL);
    chmpx_set_debug_level_dump();
    CHECK(chm_debug_mode == CHMDBG_DUMP);
    chmpx_set_debug_level_silent();
    CHECK(chm_debug_mode == CHMDBG_SILENT);
    CHECK(strcmp(chmpx_commit_hash, chmpx_get_raw_version(true)) == 0);
    CHECK(chmpx_get_raw_version(true) == chmpx_commit_hash);

    CHECK_DONE("test_chmpx_abi");
}
