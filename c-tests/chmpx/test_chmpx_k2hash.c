/* libchmpx and libk2hash in one process: chmpx_load_hash_library loads the hash library for
 * both (libk2hash's state shows it), chmpx_unload_hash_library unloads it from both, and neither
 * library's symbols clash. CHMPX_TEST_HASHLIB names the test hash plugin. */
#define _GNU_SOURCE
#include <stdlib.h>
#include "chmpx.h"
#include "../check.h"

static const char *hash_version(void)
{
    static char buf[64];
    k2h_h h = k2h_open_mem(8, 4, 32, 128);
    CHECK(h != K2H_INVALID_HANDLE);
    PK2HSTATE st = k2h_get_state(h);
    CHECK(st != NULL);
    buf[0] = 0;
    if (st) {
        snprintf(buf, sizeof(buf), "%.*s", (int)sizeof(st->hash_version), st->hash_version);
        free(st);
    }
    k2h_close(h);
    return buf;
}

int main(void)
{
    const char *lib = getenv("CHMPX_TEST_HASHLIB");
    if (!lib) {
        printf("test_chmpx_k2hash: CHMPX_TEST_HASHLIB not set, skipped\n");
        return 0;
    }
    unsigned char key[] = "key1";
    CHMBIN b = {key, 5};
    CHECK_STR(hash_version(), "FNV-1A BUILTIN");
    CHECK(make_chmbin_hash(&b) == 0x7172B3F29643AA65ULL);
    CHECK(chmpx_load_hash_library(lib));
    CHECK_STR(hash_version(), "TEST PLUGIN HASH");
    CHECK(make_chmbin_hash(&b) != 0x7172B3F29643AA65ULL);
    CHECK(chmpx_unload_hash_library());
    CHECK_STR(hash_version(), "FNV-1A BUILTIN");
    CHECK(make_chmbin_hash(&b) == 0x7172B3F29643AA65ULL);
    CHECK_DONE("test_chmpx_k2hash");
}
