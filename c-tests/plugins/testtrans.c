/* Transaction plugin for the tests: counts records and control calls in a file named by
 * $K2HRS_TRANS_COUNT ("records controls"). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
static int records, controls;
static void save(void) { const char *p = getenv("K2HRS_TRANS_COUNT"); FILE *f = p ? fopen(p, "w") : NULL; if (f) { fprintf(f, "%d %d\n", records, controls); fclose(f); } }
bool k2h_trans(uint64_t h, void *rec) { (void)h; if (!rec) return false; records++; save(); return true; }
const char *k2h_trans_version(void) { return "TEST PLUGIN TRANS"; }
bool k2h_trans_cntl(uint64_t h, void *opt) { (void)h; (void)opt; controls++; save(); return true; }
