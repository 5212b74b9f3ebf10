/* Example: what `make run` builds and runs. Stores a few keys with subkeys and attributes in a
 * k2hash file, reads them back, iterates, and prints the state. Usage: example FILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "k2hash.h"

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/k2hash-example.k2h";
    k2h_h h = k2h_open_rw(path, true, 8, 4, 32, 128);
    if (h == K2H_INVALID_HANDLE) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    k2h_set_str_value(h, "greeting", "hello, k2hash");
    k2h_add_str_subkey(h, "fruits", "apple", "red");
    k2h_add_str_subkey(h, "fruits", "banana", "yellow");
    k2h_add_str_attr(h, "greeting", "lang", "en");
    time_t ttl = 3600;
    k2h_set_str_value_wa(h, "secret", "treasure", "pass", &ttl);

    char *v = k2h_get_str_direct_value(h, "greeting");
    printf("greeting = %s\n", v ? v : "(none)");
    free(v);
    v = k2h_get_str_direct_value_wp(h, "secret", "pass");
    printf("secret (with pass) = %s\n", v ? v : "(none)");
    free(v);

    char **subs = k2h_get_str_direct_subkeys(h, "fruits");
    for (char **p = subs; p && *p; p++) {
        char *sv = k2h_get_str_direct_value(h, *p);
        printf("fruits -> %s = %s\n", *p, sv ? sv : "(none)");
        free(sv);
    }
    k2h_free_keyarray(subs);

    int n = 0;
    for (k2h_find_h f = k2h_find_first(h); f != K2H_INVALID_HANDLE; f = k2h_find_next(f)) {
        n++;
    }
    printf("%d keys in %s\n", n, path);
    k2h_print_state(h, stdout);
    k2h_close(h);
    return 0;
}
