/* Hash plugin for the tests: k2h_load_hash_library loads it. */
#include <stdint.h>
#include <stddef.h>
uint64_t k2h_hash(const void *p, size_t n) { const unsigned char *b = p; uint64_t h = 5381; for (size_t i = 0; i < n; i++) h = h * 33 + b[i]; return h; }
uint64_t k2h_second_hash(const void *p, size_t n) { return k2h_hash(p, n) >> 3; }
const char *k2h_hash_version(void) { return "TEST PLUGIN HASH"; }
