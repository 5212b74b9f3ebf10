/* The client-on-slave half of the cluster test (run by cluster.sh): attaches to the slave
 * chmpx, opens a msgid, sends COUNT key/value messages (chmpx_msg_send_kv / _kvp alternately,
 * hashed by key) and one raw "PING", and checks each reply (body, receivers count, head) from
 * chmpx_msg_receive, alternating between a separate body and the body inside the packet.
 * usage: cluster_slave CONF COUNT */
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>
#include "chmpx.h"
#include "../check.h"

/* The reply to msgid (waits up to 10 s). */
static chmpx_pkt_h reply(chmpx_h h, msgid_t msgid, int inside, unsigned char **pbody, size_t *plen)
{
    time_t end = time(NULL) + 10;
    while (time(NULL) < end) {
        chmpx_pkt_h pkt = 0;
        unsigned char *body = NULL;
        size_t len = 0;
        int ok = inside ? chmpx_msg_receive(h, msgid, &pkt, NULL, NULL, 1000)
                        : chmpx_msg_receive(h, msgid, &pkt, &body, &len, 1000);
        CHECK(ok);
        if (!ok) return 0;
        if (!pkt) continue;
        PCOMPKT p = (PCOMPKT)(uintptr_t)pkt;
        CHECK(p->head.type == COM_C2C);
        CHECK(p->head.term_ids.msgid == msgid);
        CHECK((p->head.c2ctype & COM_C2C_MODE_MASK) == COM_C2C_NORMAL);
        if (inside) {
            *plen = p->length - sizeof(COMPKT);
            *pbody = (unsigned char *)p + p->offset;
        } else {
            *pbody = body;
            *plen = len;
        }
        return pkt;
    }
    fprintf(stderr, "cluster_slave: no reply\n");
    CHECK(0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: cluster_slave CONF COUNT\n");
        return 2;
    }
    int count = atoi(argv[2]);
    /* a client of a slave chmpx cannot attach as a server's client */
    CHECK(chmpx_create(argv[1], true, false) == CHM_INVALID_CHMPXHANDLE);
    chmpx_h h = chmpx_create(argv[1], false, false);
    CHECK(h != CHM_INVALID_CHMPXHANDLE);
    if (h == CHM_INVALID_CHMPXHANDLE) CHECK_DONE("cluster_slave");
    CHECK(is_chmpx_proc_exists(h));
    /* server-side calls are refused on a slave handle */
    CHECK(!chmpx_svr_send(h, (const unsigned char *)"x", 1, 0, false));

    msgid_t msgid = chmpx_open(h, false);
    CHECK(msgid != CHM_INVALID_MSGID);
    chmpx_pkt_h pkt = 5;
    CHECK(chmpx_msg_receive(h, msgid, &pkt, NULL, NULL, RCV_NO_WAIT) && pkt == 0);
    CHECK(!chmpx_msg_receive(h, msgid + 1000, &pkt, NULL, NULL, RCV_NO_WAIT));
    CHECK(!chmpx_msg_send(h, msgid, NULL, 0, 1, NULL, false));

    long receivers = -1;
    for (int i = 0; i < count; i++) {
        char key[32], val[32];
        int kl = snprintf(key, sizeof(key), "key-%d", i);
        int vl = snprintf(val, sizeof(val), "val-%d", i);
        receivers = -1;
        if (i % 2) {
            CHMKVP kvp = {{(unsigned char *)key, (size_t)kl}, {(unsigned char *)val, (size_t)vl}};
            CHECK(chmpx_msg_send_kvp(h, msgid, &kvp, &receivers, false));
        } else {
            CHECK(chmpx_msg_send_kv(h, msgid, (unsigned char *)key, kl, (unsigned char *)val, vl, &receivers, false));
        }
        CHECK(receivers == 1);
        unsigned char *body = NULL;
        size_t len = 0;
        int inside = i % 2;
        pkt = reply(h, msgid, inside, &body, &len);
        if (!pkt) break;
        CHMKVP got;
        char want[64];
        int wl = snprintf(want, sizeof(want), "reply:%s", val);
        CHECK(cvt_bin_kvp(&got, body, len));
        CHECK(got.key.length == (size_t)kl && memcmp(got.key.byptr, key, kl) == 0);
        CHECK(got.val.length == (size_t)wl && memcmp(got.val.byptr, want, wl) == 0);
        if (!inside) free(body);
        CHECK(chmpx_pkth_destroy(pkt));
    }

    /* a raw body, routed by an explicit hash, without a receivers count */
    CHECK(chmpx_msg_send(h, msgid, (const unsigned char *)"PING", 4, 7, NULL, true));
    unsigned char *body = NULL;
    size_t len = 0;
    pkt = reply(h, msgid, 0, &body, &len);
    CHECK(pkt != 0 && len == 4 && body && memcmp(body, "PONG", 4) == 0);
    free(body);
    CHECK(chmpx_pkth_destroy(pkt));

    CHECK(chmpx_close(h, msgid));
    CHECK(!chmpx_close(h, msgid));
    CHECK(!chmpx_msg_send(h, msgid, (const unsigned char *)"x", 1, 0, NULL, false));
    CHECK(chmpx_destroy(h));
    CHECK(!chmpx_destroy(h));
    printf("cluster_slave: %d messages answered\n", count + 1);
    CHECK_DONE("cluster_slave");
}
