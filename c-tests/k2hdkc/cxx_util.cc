// cxx_util: the two k2hdkcutil.h helpers that libk2hdkc exports with C linkage and C++
// reference parameters, called from C++ as the original's callers do.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <time.h>

extern "C" bool path_to_abspath(const char* path, std::string& abspath);
extern "C" void make_current_timespec_with_mergin(long timens, struct timespec& limitts);

int main()
{
    int failures = 0;
    std::string abs("unchanged");
    if (!path_to_abspath("/tmp/../tmp/.", abs) || abs != "/tmp") {
        fprintf(stderr, "cxx_util: path_to_abspath gave %s\n", abs.c_str());
        failures++;
    }
    std::string longer;
    if (!path_to_abspath("/proc/self/../self/../../usr/lib/../lib", longer) || longer != "/usr/lib") {
        fprintf(stderr, "cxx_util: path_to_abspath gave %s\n", longer.c_str());
        failures++;
    }
    std::string missing("kept");
    if (path_to_abspath("/no/such/file/here", missing) || missing != "kept" || path_to_abspath(NULL, missing)) {
        fprintf(stderr, "cxx_util: path_to_abspath of a missing file\n");
        failures++;
    }
    struct timespec now, limit;
    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    make_current_timespec_with_mergin(2500000000L, limit);
    if (limit.tv_sec < now.tv_sec + 2 || limit.tv_sec > now.tv_sec + 4 || limit.tv_nsec >= 1000000000L) {
        fprintf(stderr, "cxx_util: make_current_timespec_with_mergin\n");
        failures++;
    }
    if (failures) {
        return 1;
    }
    printf("cxx_util: ok\n");
    return 0;
}
