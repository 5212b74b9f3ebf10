// The installed chmpx headers compile as C++ (extern "C", the original's names and the C++
// reference parameter of get_file_size) and link against libchmpx.
#include "chmpx.h"
#include "chmdbg.h"
#include "chmhash.h"
#include "chmutil.h"
#include "chmconfutil.h"
#include <cstdio>
#include <cstring>

DECL_EXTERN_C_START
bool chmpx_destroy(chmpx_h handle); // the same declaration again, through the original's macros
DECL_EXTERN_C_END

static bool cb_lastts(chmpx_h, struct timespec *) { return true; }

int main()
{
    static_assert(sizeof(CHMKVP) == 32 && sizeof(CHM_MERGE_GETPARAM) == 88, "layouts");
    static_assert(sizeof(COMPKT) == 120, "COMPKT");
    chmpx_h h = CHM_INVALID_CHMPXHANDLE;
    chm_merge_lastts_cb cb = cb_lastts;
    bool ok = chmpx_create_ex("", true, false, nullptr, nullptr, cb) == h;
    size_t len = 0;
    ok = ok && get_file_size("/proc/self/exe", len) && len > 0;
    ok = ok && MakeChmpxId("EXPG", CHMPXID_SEED_NAME, "vm", 8021, nullptr, nullptr, nullptr) == 0x232e14b7ba0c76d8ULL;
    ok = ok && right_check_json_string("{}") && SetChmDbgMode(CHMDBG_SILENT) == CHMDBG_SILENT;
    ok = ok && std::strcmp(chmpx_get_raw_version(false), "1.0.113") == 0;
    ok = ok && chmpx_open(h, false) == CHM_INVALID_MSGID && !chmpx_destroy(h);
    std::printf("cxx_chmpx: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
