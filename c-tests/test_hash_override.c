/* A program that defines its own k2h_hash / k2h_second_hash / k2h_hash_version: the library
 * uses them (the original declares its built-ins weak for this) and files record the version. */
#define _GNU_SOURCE
#include <unistd.h>
#include "k2hash.h"
#include "k2hashfunc.h"
#include "check.h"

static int calls = 0;

k2h_hash_t k2h_hash(const void *ptr, size_t length)
{
    const unsigned char *p = ptr;
    k2h_hash_t h = 7;
    calls++;
    for (size_t i = 0; i < length; i++) h = h * 31 + p[i];
    return h;
}

k2h_hash_t k2h_second_hash(const void *ptr, size_t length)
{
    return k2h_hash(ptr, length) >> 7;
}

const char *k2h_hash_version(void)
{
    return "TEST OVERRIDE HASH";
}

int main(void)
{
    char dir[] = "/tmp/k2hrs-hash-XXXXXX", path[256], cmd[300];
    if (!mkdtemp(dir)) return 2;
    setenv("K2H_LOCKDIR", dir, 1);
    snprintf(path, sizeof path, "%s/h.k2h", dir);
    k2h_h h = k2h_open_rw(path, true, 8, 4, 32, 128);
    CHECK(h != K2H_INVALID_HANDLE);
    char key[32];
    for (int i = 0; i < 500; i++) { snprintf(key, sizeof key, "k%d", i); CHECK(k2h_set_str_value(h, key, key)); }
    CHECK(calls > 0);
    for (int i = 0; i < 500; i += 50) { snprintf(key, sizeof key, "k%d", i); CHECK_STR(k2h_get_str_direct_value(h, key), key); }
    PK2HSTATE st = k2h_get_state(h);
    CHECK(st && strcmp(st->hash_version, "TEST OVERRIDE HASH") == 0);
    free(st);
    CHECK(k2h_close(h));
    FILE *fp = fopen(path, "rb");
    char hv[32] = {0};
    CHECK(fp && fseek(fp, 8, SEEK_SET) == 0 && fread(hv, 1, 32, fp) == 32);
    if (fp) fclose(fp);
    CHECK(strcmp(hv, "TEST OVERRIDE HASH") == 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 2;
    CHECK_DONE("test_hash_override");
}
