/*
 * merge_feeder: a steady stream of writes through a chmpx slave, for the merge tests
 * (merge.sh). Each write "SET key value" goes to every server the hash rule names (replicate,
 * hash = k2h_hash of the key with its NUL, as k2hdkc hashes keys) and counts as acknowledged
 * when every receiver answered "OK key value". Keys key-00000 .. key-(KEYS-1) are written in
 * turn with values <tag>-<n>, until the file STOPFILE exists. Prints "TRY key value" before and
 * "ACK key value" after each acknowledged write (line-buffered), and a summary on stderr
 * (counts, and the longest time a write waited for all its answers).
 *
 *   merge_feeder CONF KEYS TAG STOPFILE
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "chmpx.h"
#include "k2hash.h"
#include "k2hashfunc.h"

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: merge_feeder CONF KEYS TAG STOPFILE\n");
        return 2;
    }
    long keys = atol(argv[2]);
    const char *tag = argv[3];
    const char *stopfile = argv[4];
    setvbuf(stdout, NULL, _IOLBF, 0);
    chmpx_h h = chmpx_create(argv[1], false, true);
    if (h == CHM_INVALID_CHMPXHANDLE) {
        fprintf(stderr, "merge_feeder: cannot attach to chmpx\n");
        return 1;
    }
    msgid_t msgid = chmpx_open(h, true);
    long acked = 0, failed = 0, n = 0, slowest = 0;
    while (access(stopfile, F_OK) != 0) {
        char key[64], val[64], msg[160];
        snprintf(key, sizeof(key), "key-%05ld", n % keys);
        snprintf(val, sizeof(val), "%s-%ld", tag, n);
        n++;
        int len = snprintf(msg, sizeof(msg), "SET %s %s", key, val);
        uint64_t hash = k2h_hash(key, strlen(key) + 1);
        long cnt = 0;
        printf("TRY %s %s\n", key, val);
        if (!chmpx_msg_replicate(h, msgid, (unsigned char *)msg, (size_t)len, hash, &cnt) ||
            cnt <= 0) {
            failed++;
            usleep(20000);
            continue;
        }
        char want[160];
        snprintf(want, sizeof(want), "OK %s %s", key, val);
        long ok = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (ok < cnt) {
            chmpx_pkt_h pkt = 0;
            unsigned char *body = NULL;
            size_t blen = 0;
            if (chmpx_msg_receive(h, msgid, &pkt, &body, &blen, 200) && pkt) {
                if (blen == strlen(want) && 0 == memcmp(body, want, blen)) ok++;
                chmpx_pkth_destroy(pkt);
            }
            free(body);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (t1.tv_sec - t0.tv_sec >= 3) break;
        }
        if (ok == cnt) {
            printf("ACK %s %s\n", key, val);
            acked++;
            long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
            if (ms > slowest) slowest = ms;
        } else {
            failed++;
        }
    }
    chmpx_close(h, msgid);
    chmpx_destroy(h);
    fprintf(stderr, "merge_feeder: %ld writes, %ld acknowledged, %ld not; slowest acknowledgement %ld ms\n",
            n, acked, failed, slowest);
    return 0;
}
