/*
 * merge_check: after merge.sh, every acknowledged write is where the hash rule says. Reads the
 * feeder's log (TRY/ACK lines) and the servers' k2hash files in ring order; for every key the
 * primary (slot k2h_hash(key) % N) and the next REPLICA servers must hold the last acknowledged
 * value or a value written after it (a write that was tried and not acknowledged may have
 * landed). Prints counts, and how many extra copies sit on servers that no longer own a key.
 *
 *   merge_check FEEDERLOG REPLICA K2HFILE...
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "k2hash.h"
#include "k2hashfunc.h"

#define MAXKEYS 100000
#define MAXLATE 64

struct entry {
    char key[32];
    char acked[32];
    char late[MAXLATE][32]; /* tried after the last ACK */
    int nlate;
    int used;
};

static struct entry *tab;

static struct entry *lookup(const char *key)
{
    long i = strtol(key + 4, NULL, 10);
    if (i < 0 || i >= MAXKEYS) return NULL;
    struct entry *e = &tab[i];
    if (!e->used) {
        e->used = 1;
        snprintf(e->key, sizeof(e->key), "%s", key);
    }
    return e;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: merge_check FEEDERLOG REPLICA K2HFILE...\n");
        return 2;
    }
    int replica = atoi(argv[2]);
    int n = argc - 3;
    tab = calloc(MAXKEYS, sizeof(*tab));
    FILE *f = fopen(argv[1], "r");
    if (!f || !tab) return 1;
    char kind[8], key[32], val[32];
    while (3 == fscanf(f, "%7s %31s %31s", kind, key, val)) {
        struct entry *e = lookup(key);
        if (!e) continue;
        if (0 == strcmp(kind, "ACK")) {
            snprintf(e->acked, sizeof(e->acked), "%s", val);
            e->nlate = 0;
        } else if (e->nlate < MAXLATE) {
            snprintf(e->late[e->nlate++], sizeof(e->late[0]), "%s", val);
        }
    }
    fclose(f);
    k2h_h *db = calloc((size_t)n, sizeof(k2h_h));
    for (int i = 0; i < n; i++) {
        db[i] = k2h_open_ro(argv[3 + i], true, 8, 4, 32, 128);
        if (db[i] == K2H_INVALID_HANDLE) {
            fprintf(stderr, "merge_check: cannot open %s\n", argv[3 + i]);
            return 1;
        }
    }
    long keys = 0, copies = 0, missing = 0, stale = 0, extra = 0;
    for (long k = 0; k < MAXKEYS; k++) {
        struct entry *e = &tab[k];
        if (!e->used || !e->acked[0]) continue;
        keys++;
        uint64_t slot = k2h_hash(e->key, strlen(e->key) + 1) % (uint64_t)n;
        for (int i = 0; i < n; i++) {
            int dist = (int)(((uint64_t)i + (uint64_t)n - slot) % (uint64_t)n);
            char *v = k2h_get_str_direct_value(db[i], e->key);
            if (dist > replica) {
                if (v) extra++;
                free(v);
                continue;
            }
            if (!v) {
                if (missing++ < 10) fprintf(stderr, "missing: %s (acked %s) on server %d\n", e->key, e->acked, i);
            } else {
                int ok = 0 == strcmp(v, e->acked);
                for (int j = 0; !ok && j < e->nlate; j++) ok = 0 == strcmp(v, e->late[j]);
                if (ok) {
                    copies++;
                } else if (stale++ < 10) {
                    fprintf(stderr, "stale: %s = %s on server %d, acked %s\n", e->key, v, i, e->acked);
                }
            }
            free(v);
        }
    }
    printf("merge_check: %ld keys, %ld copies right, %ld missing, %ld stale, %ld extra copies on non-owners\n",
           keys, copies, missing, stale, extra);
    return (missing || stale || keys == 0) ? 1 : 0;
}
