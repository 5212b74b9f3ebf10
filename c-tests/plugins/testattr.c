/* Attribute plugin for the tests: attribute "vlen" = decimal value length; none for values
 * starting with "nox". */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
bool k2hattr_initialize(void) { return true; }
const char *k2hattr_get_version(void) { return "TEST ATTR PLUGIN"; }
const char *k2hattr_get_key_name(void) { return "vlen"; }
unsigned char *k2hattr_update(size_t *psize, const unsigned char *key, size_t keylen, const unsigned char *val, size_t vallen)
{
    (void)key; (void)keylen;
    if (vallen >= 3 && memcmp(val, "nox", 3) == 0) return NULL;
    char *b = malloc(32);
    *psize = (size_t)snprintf(b, 32, "%zu", vallen) + 1;
    return (unsigned char *)b;
}
