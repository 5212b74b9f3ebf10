/* Direct access to values at offsets (family N). */
#define _GNU_SOURCE
#include <unistd.h>
#include <fcntl.h>
#include "k2hash.h"
#include "check.h"

int main(void)
{
    char dir[] = "/tmp/k2hrs-da-XXXXXX", path[300], cmd[300];
    if (!mkdtemp(dir)) return 2;
    setenv("K2H_LOCKDIR", dir, 1);
    k2h_h h = k2h_open_mem(8, 4, 32, 128);
    CHECK(k2h_da_str_handle_read(h, "dakey") == 0);          /* missing key */
    k2h_da_h w = k2h_da_str_handle_write(h, "dakey");         /* creates it */
    CHECK(w != 0 && k2h_da_get_length(w) == 0);
    CHECK(k2h_da_get_buf_size(w) == 409600);
    CHECK(k2h_da_set_value_str(w, "hello"));
    CHECK(k2h_da_get_length(w) == 6 && k2h_da_get_write_offset(w) == 6);
    CHECK_STR(k2h_get_str_direct_value(h, "dakey"), "hello");
    /* overwrite in the middle, and a read offset on a write handle is refused */
    CHECK(k2h_da_set_value_offset(w, (const unsigned char*)"J", 1, 0));
    CHECK_STR(k2h_get_str_direct_value(h, "dakey"), "Jello");
    CHECK(!k2h_da_set_read_offset(w, 0));
    size_t l = 3; unsigned char *p = NULL;
    CHECK(!k2h_da_get_value(w, &p, &l));
    /* writing past the end extends the value */
    CHECK(k2h_da_set_write_offset(w, 10));
    CHECK(k2h_da_get_length(w) == 10);
    CHECK(k2h_da_set_value(w, (const unsigned char*)"XY", 2) && k2h_da_get_length(w) == 12);
    CHECK(!k2h_da_set_value(w, NULL, 2) && !k2h_da_set_write_offset(w, -1));
    CHECK(k2h_da_free(w) && !k2h_da_free(w));
    /* reads advance; a short read ends at -1 */
    k2h_da_h r = k2h_da_str_handle_read(h, "dakey");
    CHECK(r != 0);
    l = 4;
    CHECK(k2h_da_get_value(r, &p, &l) && l == 4 && memcmp(p, "Jell", 4) == 0);
    free(p);
    CHECK(k2h_da_get_read_offset(r) == 4);
    l = 100;
    p = k2h_da_read(r, &l);
    CHECK(p && l == 8 && p[0] == 'o' && p[6] == 'X');
    free(p);
    CHECK(k2h_da_get_read_offset(r) == -1);
    l = 2;
    p = k2h_da_read_offset(r, &l, 1);
    CHECK(p && l == 2 && memcmp(p, "el", 2) == 0);
    free(p);
    CHECK(k2h_da_set_read_offset(r, 0));
    char *s = k2h_da_read_str(r);
    CHECK_STR(s, "Jello");
    free(s);
    CHECK(!k2h_da_set_write_offset(r, 0) && !k2h_da_set_value_str(r, "no"));
    /* file copies */
    snprintf(path, sizeof path, "%s/out.bin", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    CHECK(k2h_da_set_read_offset(r, 0));
    l = 5;
    CHECK(k2h_da_get_value_to_file(r, fd, &l) && l == 5);
    char buf[16] = {0};
    CHECK(pread(fd, buf, 16, 0) == 5 && memcmp(buf, "Jello", 5) == 0);
    k2h_da_h rw = k2h_da_str_handle_rw(h, "fromfile");
    l = 5;
    CHECK(k2h_da_set_value_from_file(rw, fd, &l) && l == 5);
    CHECK(k2h_da_get_length(rw) == 5);
    CHECK(k2h_da_set_read_offset(rw, 1));
    l = 3;
    CHECK(k2h_da_get_value(rw, &p, &l) && l == 3 && memcmp(p, "ell", 3) == 0);
    free(p);
    close(fd);
    CHECK(!k2h_da_get_value_to_file(rw, -1, &l));
    CHECK(k2h_da_free(r) && k2h_da_free(rw));
    /* bad input */
    CHECK(k2h_da_handle(h, (const unsigned char*)"k", 1, (K2HDAMODE)9) == 0);
    CHECK(k2h_da_handle_rw(0, (const unsigned char*)"k", 1) == 0);
    CHECK(k2h_da_str_handle_rw(h, NULL) == 0);
    CHECK(k2h_da_get_length(0) == -1 && k2h_da_get_buf_size(0) == -1 && k2h_da_get_offset(0, true) == -1);
    CHECK(!k2h_da_set_buf_size(0, 10) && !k2h_da_free(0));
    CHECK(k2h_close(h));
    /* a read-only k2hash refuses write handles */
    snprintf(path, sizeof path, "%s/ro.k2h", dir);
    CHECK(k2h_create(path, 8, 4, 32, 128));
    k2h_h ro = k2h_open_ro(path, true, 8, 4, 32, 128);
    CHECK(ro && k2h_da_str_handle_write(ro, "x") == 0);
    CHECK(k2h_close(ro));
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 2;
    CHECK_DONE("test_daccess");
}
