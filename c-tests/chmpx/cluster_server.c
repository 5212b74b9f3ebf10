/* The client-on-server half of the cluster test (run by cluster.sh): attaches to the server
 * chmpx, checks a receive without wait, broadcasts to itself and receives that, then answers
 * COUNT key/value messages (chmpx_msg_reply_kv / _kvp alternately) and one raw "PING"
 * (chmpx_msg_reply "PONG"), checking every packet head. Receives alternate between a separate
 * body and the body inside the packet.
 * usage: cluster_server CONF COUNT */
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "chmpx.h"
#include "../check.h"

static time_t deadline;

/* One packet (waits at most until the deadline). *pbody is malloc'ed, or NULL with the body in
 * the packet when `inside`. */
static chmpx_pkt_h receive(chmpx_h h, int inside, unsigned char **pbody, size_t *plen)
{
    while (time(NULL) < deadline) {
        chmpx_pkt_h pkt = 0;
        unsigned char *body = NULL;
        size_t len = 0;
        int ok = inside ? chmpx_svr_receive(h, &pkt, NULL, NULL, 500, false)
                        : chmpx_svr_receive(h, &pkt, &body, &len, 500, false);
        CHECK(ok);
        if (!ok) return 0;
        if (!pkt) continue;
        PCOMPKT p = (PCOMPKT)(uintptr_t)pkt;
        CHECK(p->head.type == COM_C2C);
        CHECK(p->offset == (off_t)sizeof(COMPKT));
        if (inside) {
            CHECK(p->length > sizeof(COMPKT));
            *plen = p->length - sizeof(COMPKT);
            *pbody = (unsigned char *)p + p->offset;
        } else {
            CHECK(body != NULL && len > 0 && p->length == sizeof(COMPKT) + len);
            *pbody = body;
            *plen = len;
        }
        return pkt;
    }
    fprintf(stderr, "cluster_server: timed out waiting for a message\n");
    CHECK(0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: cluster_server CONF COUNT\n");
        return 2;
    }
    int count = atoi(argv[2]);
    deadline = time(NULL) + 60;
    chmpx_h h = chmpx_create(argv[1], true, false);
    CHECK(h != CHM_INVALID_CHMPXHANDLE);
    if (h == CHM_INVALID_CHMPXHANDLE) CHECK_DONE("cluster_server");
    CHECK(is_chmpx_proc_exists(h));
    /* slave-side calls are refused on a server handle */
    CHECK(chmpx_open(h, false) == CHM_INVALID_MSGID);

    chmpx_pkt_h pkt = 1;
    CHECK(chmpx_svr_receive(h, &pkt, NULL, NULL, RCV_NO_WAIT, false) && pkt == 0);
    unsigned char *body = NULL;
    size_t len = 0;
    CHECK(!chmpx_svr_receive(h, &pkt, &body, NULL, RCV_NO_WAIT, false));
    CHECK(!chmpx_svr_receive(h, NULL, NULL, NULL, RCV_NO_WAIT, false));

    /* a broadcast reaches this server itself (once it is in the ring) */
    int sent = 0;
    for (int i = 0; i < 100 && !sent; i++) {
        sent = chmpx_svr_broadcast(h, (const unsigned char *)"SELF", 4, 0);
        if (!sent) usleep(100 * 1000);
    }
    CHECK(sent);
    pkt = receive(h, 0, &body, &len);
    if (pkt) {
        PCOMPKT p = (PCOMPKT)(uintptr_t)pkt;
        CHECK(len == 4 && memcmp(body, "SELF", 4) == 0);
        CHECK(p->head.dept_ids.chmpxid == p->head.term_ids.chmpxid);
        CHECK((p->head.c2ctype & COM_C2C_MODE_MASK) == COM_C2C_BROADCAST);
        free(body);
        CHECK(chmpx_pkth_destroy(pkt));
        CHECK(!chmpx_pkth_destroy(pkt));
    }
    printf("cluster_server: in service\n");
    fflush(stdout);

    for (int i = 0; i <= count; i++) {
        int inside = i % 2;
        pkt = receive(h, inside, &body, &len);
        if (!pkt) break;
        PCOMPKT p = (PCOMPKT)(uintptr_t)pkt;
        CHMKVP kvp;
        if (i == count) {
            /* the raw message */
            CHECK(len == 4 && memcmp(body, "PING", 4) == 0);
            CHECK(p->head.hash == 7 && (p->head.c2ctype & COM_C2C_MODE_MASK) == COM_C2C_ROUTING);
            CHECK(chmpx_msg_reply(h, pkt, (const unsigned char *)"PONG", 4));
        } else if (cvt_bin_kvp(&kvp, body, len)) {
            char want[32];
            snprintf(want, sizeof(want), "key-%d", i);
            CHECK(kvp.key.length == strlen(want) && memcmp(kvp.key.byptr, want, kvp.key.length) == 0);
            CHECK(p->head.hash == make_kvp_hash(&kvp));
            CHECK((p->head.c2ctype & COM_C2C_MODE_MASK) == COM_C2C_NORMAL);
            char reply[64];
            int n = snprintf(reply, sizeof(reply), "reply:%.*s", (int)kvp.val.length, (const char *)kvp.val.byptr);
            if (i % 2) {
                CHMKVP r = {{kvp.key.byptr, kvp.key.length}, {(unsigned char *)reply, (size_t)n}};
                CHECK(chmpx_msg_reply_kvp(h, pkt, &r));
            } else {
                CHECK(chmpx_msg_reply_kv(h, pkt, kvp.key.byptr, kvp.key.length, (unsigned char *)reply, (size_t)n));
            }
        } else {
            CHECK(0 && "not a key/value message");
        }
        /* empty replies are refused */
        CHECK(!chmpx_msg_reply(h, pkt, NULL, 0));
        if (!inside) free(body);
        CHECK(chmpx_pkth_destroy(pkt));
        /* a destroyed packet cannot be answered */
        CHECK(!chmpx_msg_reply(h, pkt, (const unsigned char *)"late", 4));
    }
    CHECK(chmpx_destroy(h));
    CHECK(!chmpx_destroy(h));
    CHECK(!is_chmpx_proc_exists(h));
    CHECK_DONE("cluster_server");
}
