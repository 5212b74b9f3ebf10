/* The cost of a hop on this machine: round trips of a small message between two processes
 * over a Unix stream socket pair (each round trip wakes each process once). Run it as is (the
 * kernel places the two processes) and under `taskset -c 0` (one core: no cross-core wake-up).
 *
 * usage: pingpong [ROUND_TRIPS [BYTES]]     cc -O2 -o pingpong bench/pingpong.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 50000;
    int len = argc > 2 ? atoi(argv[2]) : 200;
    char buf[4096];
    int sv[2];
    if (n <= 0 || len <= 0 || len > (int)sizeof buf) {
        fprintf(stderr, "usage: %s [ROUND_TRIPS [BYTES<=4096]]\n", argv[0]);
        return 2;
    }
    memset(buf, 1, sizeof buf);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) { perror("socketpair"); return 1; }
    pid_t p = fork();
    if (p < 0) { perror("fork"); return 1; }
    if (p == 0) { /* echo until the other end closes */
        close(sv[0]);
        for (;;) {
            ssize_t r = read(sv[1], buf, sizeof buf);
            if (r <= 0 || write(sv[1], buf, (size_t)r) != r) _exit(0);
        }
    }
    close(sv[1]);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) {
        if (write(sv[0], buf, (size_t)len) != len) { perror("write"); return 1; }
        for (int got = 0; got < len;) {
            ssize_t r = read(sv[0], buf, (size_t)(len - got));
            if (r <= 0) { perror("read"); return 1; }
            got += (int)r;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / n;
    printf("%.1f us per round trip (2 hops), %.0f round trips/s\n", us, 1e6 / us);
    close(sv[0]);
    waitpid(p, NULL, 0);
    return 0;
}
