/* A client on one server of the 3-server ring test (run by ring.sh). It answers every message
 * from the slave with "<ctlport> <body>". A message "SREP <hash>" makes it replicate
 * "FROM <ctlport>" to the other servers of that hash with chmpx_svr_replicate (self skipped);
 * each server getting such a message answers the sender "GOT <ctlport>", and the sender, after
 * collecting for a moment, answers the slave "<ctlport> SREP <ports that got it>".
 * A message "QUIT" ends it (answered "<ctlport> BYE").
 * usage: ring_server CONF CTLPORT */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include "chmpx.h"
#include "../check.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: ring_server CONF CTLPORT\n");
        return 2;
    }
    const char *me = argv[2];
    chmpx_h h = chmpx_create(argv[1], true, false);
    CHECK(h != CHM_INVALID_CHMPXHANDLE);
    if (h == CHM_INVALID_CHMPXHANDLE) CHECK_DONE("ring_server");
    time_t deadline = time(NULL) + 120;
    chmpx_pkt_h pending = 0;      /* the slave's SREP request being answered */
    char got[256] = "";
    int idle = 0;
    for (;;) {
        if (time(NULL) > deadline) {
            fprintf(stderr, "ring_server %s: timed out\n", me);
            CHECK(0);
            break;
        }
        chmpx_pkt_h pkt = 0;
        unsigned char *body = NULL;
        size_t len = 0;
        CHECK(chmpx_svr_receive(h, &pkt, &body, &len, 100, false));
        if (!pkt) {
            if (pending && ++idle >= 5) {
                char out[400];
                int n = snprintf(out, sizeof(out), "%s SREP%s", me, got);
                CHECK(chmpx_msg_reply(h, pending, (unsigned char *)out, (size_t)n));
                chmpx_pkth_destroy(pending);
                pending = 0;
                got[0] = '\0';
            }
            continue;
        }
        idle = 0;
        char text[512];
        size_t n = len < sizeof(text) - 1 ? len : sizeof(text) - 1;
        memcpy(text, body, n);
        text[n] = '\0';
        free(body);
        if (0 == strncmp(text, "SREP ", 5)) {
            uint64_t hash = strtoull(text + 5, NULL, 10);
            char msg[64];
            int m = snprintf(msg, sizeof(msg), "FROM %s", me);
            CHECK(chmpx_svr_replicate(h, (unsigned char *)msg, (size_t)m, hash));
            pending = pkt;
            continue;
        }
        if (0 == strncmp(text, "FROM ", 5)) {
            char msg[64];
            int m = snprintf(msg, sizeof(msg), "GOT %s", me);
            CHECK(chmpx_msg_reply(h, pkt, (unsigned char *)msg, (size_t)m));
            chmpx_pkth_destroy(pkt);
            continue;
        }
        if (0 == strncmp(text, "GOT ", 4)) {
            strncat(got, " ", sizeof(got) - strlen(got) - 1);
            strncat(got, text + 4, sizeof(got) - strlen(got) - 1);
            chmpx_pkth_destroy(pkt);
            continue;
        }
        char out[600];
        int m = snprintf(out, sizeof(out), "%s %s", me, 0 == strcmp(text, "QUIT") ? "BYE" : text);
        CHECK(chmpx_msg_reply(h, pkt, (unsigned char *)out, (size_t)m));
        chmpx_pkth_destroy(pkt);
        if (0 == strcmp(text, "QUIT")) break;
    }
    CHECK(chmpx_destroy(h));
    CHECK_DONE("ring_server");
}
