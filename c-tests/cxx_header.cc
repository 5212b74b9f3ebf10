// The installed header compiles as C++ and keeps the original names.
#include "k2hash.h"
#include <cstdio>

int main()
{
    K2HKEYPCK kp = {nullptr, 0};
    PK2HKEYPCK pkp = &kp;
    K2HATTRPCK ap = {nullptr, 0, nullptr, 0};
    PK2HATTRPCK pap = &ap;
    K2HBIN bin = {nullptr, 0};
    PK2HBIN pbin = &bin;
    k2h_h h = K2H_INVALID_HANDLE;
    k2h_find_h f = K2H_INVALID_HANDLE;
    K2HDAMODE m = K2H_DA_RW;
    K2HGETCBRES r = K2HGETCB_RES_NOTHING;
    K2HQRMCBRES q = K2HQRMCB_RES_CON_RM;
    static_assert(sizeof(K2HSTATE) == 284, "K2HSTATE layout");
    static_assert(sizeof(K2HKEYPCK) == 16 && sizeof(K2HATTRPCK) == 32 && sizeof(K2HBIN) == 16, "pack layouts");
    k2h_h mem = k2h_open_mem(8, 4, 32, 128);
    bool ok = mem != K2H_INVALID_HANDLE && k2h_set_str_value(mem, "cxx", "ok") && k2h_close(mem);
    std::printf("cxx_header: %s\n", ok ? "ok" : "FAILED");
    (void)pkp; (void)pap; (void)pbin; (void)h; (void)f; (void)m; (void)r; (void)q;
    return ok ? 0 : 1;
}
