/* Minimal assertion helpers for the C tests. */
#ifndef K2HRS_CHECK_H
#define K2HRS_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures = 0;
static int check_count = 0;
#define CHECK(cond) do { check_count++; if (!(cond)) { check_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STR(got, want) do { const char *g_ = (got); CHECK(g_ != NULL && strcmp(g_, (want)) == 0); } while (0)
#define CHECK_DONE(name) do { printf("%s: %d checks, %d failed\n", name, check_count, check_failures); \
    return check_failures ? 1 : 0; } while (0)
#endif
