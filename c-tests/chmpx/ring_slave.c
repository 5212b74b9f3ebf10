/* The client on the slave of the 3-server ring test (run by ring.sh): REPLICA = 1 and three
 * servers whose control ports are given in ring order (same host name, so ascending ports).
 * Checks that a message sent by hash is answered by the server the rule names (slot
 * hash % 3), that replicate reaches that server and the next one (2 receivers), that broadcast
 * reaches all three, and that a server's chmpx_svr_replicate skips the server itself.
 * usage: ring_slave CONF PORT0 PORT1 PORT2 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include "chmpx.h"
#include "../check.h"

static chmpx_h h;
static msgid_t msgid;

/* The next answer's text (NUL-terminated) into buf; false on timeout. */
static int answer(char *buf, size_t size)
{
    chmpx_pkt_h pkt = 0;
    unsigned char *body = NULL;
    size_t len = 0;
    CHECK(chmpx_msg_receive(h, msgid, &pkt, &body, &len, 10000));
    if (!pkt) return 0;
    size_t n = len < size - 1 ? len : size - 1;
    memcpy(buf, body, n);
    buf[n] = '\0';
    free(body);
    chmpx_pkth_destroy(pkt);
    return 1;
}

/* Sorts the first word (a port) of each answer into `seen`. */
static int port_of(const char *text, const char **ports)
{
    for (int i = 0; i < 3; i++)
        if (0 == strncmp(text, ports[i], strlen(ports[i])) && text[strlen(ports[i])] == ' ') return i;
    return -1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: ring_slave CONF PORT0 PORT1 PORT2\n");
        return 2;
    }
    const char *ports[3] = {argv[2], argv[3], argv[4]};
    h = chmpx_create(argv[1], false, false);
    CHECK(h != CHM_INVALID_CHMPXHANDLE);
    if (h == CHM_INVALID_CHMPXHANDLE) CHECK_DONE("ring_slave");
    msgid = chmpx_open(h, false);
    CHECK(msgid != CHM_INVALID_MSGID);
    char buf[600];

    /* By hash: the primary answers. */
    for (uint64_t hash = 0; hash < 12; hash++) {
        char msg[64];
        int n = snprintf(msg, sizeof(msg), "key%llu", (unsigned long long)hash);
        long cnt = -1;
        CHECK(chmpx_msg_send(h, msgid, (unsigned char *)msg, (size_t)n, hash, &cnt, true));
        CHECK(cnt == 1);
        CHECK(answer(buf, sizeof(buf)));
        CHECK(port_of(buf, ports) == (int)(hash % 3));
        CHECK(strstr(buf, msg) != NULL);
    }
    /* Replicate: primary and its replica. */
    for (uint64_t hash = 0; hash < 3; hash++) {
        long cnt = -1;
        CHECK(chmpx_msg_replicate(h, msgid, (unsigned char *)"rep", 3, hash, &cnt));
        CHECK(cnt == 2);
        int seen[3] = {0, 0, 0};
        for (int i = 0; i < 2; i++) {
            CHECK(answer(buf, sizeof(buf)));
            int p = port_of(buf, ports);
            CHECK(p >= 0);
            if (p >= 0) seen[p]++;
        }
        CHECK(seen[hash % 3] == 1 && seen[(hash + 1) % 3] == 1);
    }
    /* Broadcast: all three. */
    long cnt = -1;
    CHECK(chmpx_msg_broadcast(h, msgid, (unsigned char *)"all", 3, 0, &cnt));
    CHECK(cnt == 3);
    int seen[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        CHECK(answer(buf, sizeof(buf)));
        int p = port_of(buf, ports);
        if (p >= 0) seen[p]++;
    }
    CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
    /* A server replicates without itself: hash 0 has servers 0 and 1; sent from server 0 it
     * reaches server 1 only. */
    CHECK(chmpx_msg_send(h, msgid, (unsigned char *)"SREP 0", 6, 0, &cnt, true));
    CHECK(answer(buf, sizeof(buf)));
    char want[128];
    snprintf(want, sizeof(want), "%s SREP %s", ports[0], ports[1]);
    CHECK_STR(buf, want);
    if (strcmp(buf, want)) fprintf(stderr, "ring_slave: got \"%s\", want \"%s\"\n", buf, want);
    /* Everyone stops. */
    CHECK(chmpx_msg_broadcast(h, msgid, (unsigned char *)"QUIT", 4, 0, &cnt));
    for (int i = 0; i < 3; i++) CHECK(answer(buf, sizeof(buf)) && strstr(buf, "BYE"));
    CHECK(chmpx_close(h, msgid));
    CHECK(chmpx_destroy(h));
    CHECK_DONE("ring_slave");
}
