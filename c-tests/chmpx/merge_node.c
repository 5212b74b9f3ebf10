/*
 * merge_node: a client-on-server as k2hdkc is one, for the merge tests (merge.sh). It keeps a
 * k2hash file (mtime attributes on), stores every "SET key value" it receives and answers "OK",
 * and gives chmpx its merge callbacks: the last update time (kept in a side file, the time of
 * the last SET it stored), the elements of a hash range (k2h_get_elements_by_hash) and storing
 * an element from another server (k2h_set_element_by_binary). It attaches with auto-rejoin, so
 * it lives through a restart of its chmpx. Ends on SIGTERM.
 *
 *   merge_node CONF K2HFILE LASTTSFILE
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "chmpx.h"
#include "k2hash.h"

static k2h_h db;
static const char *lastts_path;
static volatile sig_atomic_t stop;
static long sets, merged, gets;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static void save_lastts(const struct timespec *ts)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", lastts_path);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    fprintf(f, "%lld %ld\n", (long long)ts->tv_sec, ts->tv_nsec);
    fclose(f);
    rename(tmp, lastts_path);
}

static bool lastts_cb(chmpx_h h, struct timespec *pts)
{
    (void)h;
    pts->tv_sec = 0;
    pts->tv_nsec = 0;
    FILE *f = fopen(lastts_path, "r");
    if (!f) return true; /* nothing stored yet: everything is wanted */
    long long s = 0;
    long ns = 0;
    if (2 == fscanf(f, "%lld %ld", &s, &ns)) {
        pts->tv_sec = (time_t)s;
        pts->tv_nsec = ns;
    }
    fclose(f);
    return true;
}

static bool get_cb(chmpx_h h, PCHM_MERGE_GETPARAM p, chmhash_t *pnext, PCHMBIN *ppdatas,
                   size_t *pcnt)
{
    (void)h;
    gets++;
    if (p->starthash == 0 && getenv("MERGE_NODE_DEBUG")) {
        fprintf(stderr, "merge_node: get start=%lld.%09ld end=%lld target=%llu/%llu old=%llu/%llu range=%ld\n",
                (long long)p->startts.tv_sec, p->startts.tv_nsec, (long long)p->endts.tv_sec,
                (unsigned long long)p->target_hash, (unsigned long long)p->target_max_hash,
                (unsigned long long)p->old_hash, (unsigned long long)p->old_max_hash,
                p->target_hash_range);
    }
    return k2h_get_elements_by_hash(db, p->starthash, p->startts, p->endts, p->target_hash,
                                    p->target_max_hash, p->old_hash, p->old_max_hash,
                                    p->target_hash_range, p->is_expire_check, pnext,
                                    (PK2HBIN *)ppdatas, pcnt);
}

static bool set_cb(chmpx_h h, size_t length, const unsigned char *pdata, const struct timespec *pts)
{
    (void)h;
    K2HBIN bin = {(unsigned char *)pdata, length};
    merged++;
    return k2h_set_element_by_binary(db, &bin, pts);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: merge_node CONF K2HFILE LASTTSFILE\n");
        return 2;
    }
    lastts_path = argv[3];
    db = k2h_open_rw(argv[2], true, 8, 4, 32, 128);
    if (db == K2H_INVALID_HANDLE) {
        fprintf(stderr, "merge_node: cannot open %s\n", argv[2]);
        return 1;
    }
    bool on = true;
    if (!k2h_set_common_attr(db, &on, NULL, NULL, NULL, NULL)) {
        fprintf(stderr, "merge_node: cannot enable mtime\n");
        return 1;
    }
    signal(SIGTERM, on_term);
    chmpx_h h = chmpx_create_ex(argv[1], true, true, get_cb, set_cb, lastts_cb);
    if (h == CHM_INVALID_CHMPXHANDLE) {
        fprintf(stderr, "merge_node: cannot attach to chmpx\n");
        return 1;
    }
    while (!stop) {
        chmpx_pkt_h pkt = 0;
        unsigned char *body = NULL;
        size_t len = 0;
        if (!chmpx_svr_receive(h, &pkt, &body, &len, 100, false) || !pkt) {
            free(body);
            continue;
        }
        char text[512];
        size_t n = len < sizeof(text) - 1 ? len : sizeof(text) - 1;
        memcpy(text, body, n);
        text[n] = '\0';
        free(body);
        char key[256], val[256];
        char answer[600] = "BAD";
        if (2 == sscanf(text, "SET %255s %255s", key, val)) {
            if (k2h_set_str_value(db, key, val)) {
                struct timespec now;
                clock_gettime(CLOCK_REALTIME, &now);
                save_lastts(&now);
                sets++;
                snprintf(answer, sizeof(answer), "OK %s %s", key, val);
            } else {
                snprintf(answer, sizeof(answer), "FAIL %s %s", key, val);
            }
        }
        chmpx_msg_reply(h, pkt, (const unsigned char *)answer, strlen(answer));
        chmpx_pkth_destroy(pkt);
    }
    chmpx_destroy(h);
    k2h_close(db);
    fprintf(stderr, "merge_node: %ld sets, %ld merged in, %ld get calls\n", sets, merged, gets);
    return 0;
}
