/*
 * merge_fill: writes KEYS keys "key-%07ld" (values "v-%ld") into a k2hash file with mtime
 * attributes, as merge_node keeps them, and sets the node's last update time file. Used by
 * chmpx_merge_bench.sh to give servers a large database before a merge.
 *
 *   merge_fill K2HFILE LASTTSFILE KEYS
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "k2hash.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: merge_fill K2HFILE LASTTSFILE KEYS\n");
        return 2;
    }
    long keys = atol(argv[3]);
    k2h_h db = k2h_open_rw(argv[1], true, 8, 4, 32, 128);
    if (db == K2H_INVALID_HANDLE) return 1;
    bool on = true;
    if (!k2h_set_common_attr(db, &on, NULL, NULL, NULL, NULL)) return 1;
    char key[32], val[32];
    for (long i = 0; i < keys; i++) {
        snprintf(key, sizeof(key), "key-%07ld", i);
        snprintf(val, sizeof(val), "v-%ld", i);
        if (!k2h_set_str_value(db, key, val)) return 1;
    }
    k2h_close(db);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    FILE *f = fopen(argv[2], "w");
    if (!f) return 1;
    fprintf(f, "%lld %ld\n", (long long)now.tv_sec, now.tv_nsec);
    fclose(f);
    return 0;
}
