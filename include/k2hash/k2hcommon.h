/*
 * k2hcommon.h: attributes and helper macros shared by the k2hash headers (k2hash-rs).
 * Written for k2hash-rs; the names and meanings are those of the original library's header
 * of the same name, so programs that include it build unchanged. Not generated.
 */
#ifndef K2HCOMMON_H
#define K2HCOMMON_H

#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/mman.h>

/* Weak attribute used while building the library itself (K2HASH defined), empty otherwise. */
#ifdef K2HASH
#define K2HASH_ATTR_WEAK __attribute__((weak, unused))
#else
#define K2HASH_ATTR_WEAK
#endif

/* Every on-disk and API structure is packed unless K2HASH_NOPADDING asks otherwise. */
#ifndef K2HASH_NOPADDING
#define K2HASH_ATTR_PACKED __attribute__((packed))
#else
#define K2HASH_ATTR_PACKED
#endif

/* C linkage brackets usable from both C and C++. */
#if defined(__cplusplus)
#define DECL_EXTERN_C_START extern "C" {
#define DECL_EXTERN_C_END }
#else
#define DECL_EXTERN_C_START
#define DECL_EXTERN_C_END
#endif

/* True for a NULL or empty C string. */
#if defined(__cplusplus)
template <typename T> inline bool ISEMPTYSTR(const T &str)
{
    return NULL == str || '\0' == *str;
}
#else
#define ISEMPTYSTR(str) (NULL == (str) || '\0' == *(str))
#endif

/* Token pasting helper. */
#define K2HSTRJOIN(first, second) first##second

#endif /* K2HCOMMON_H */

/* As with the original header: without HAVE_FDATASYNC from a configure run, fdatasync is
 * spelled fsync; the PRI* format macros and endian helpers are made available. */
#ifndef HAVE_FDATASYNC
#define fdatasync fsync
#endif

#define __STDC_FORMAT_MACROS
#include <inttypes.h>

#ifndef _BSD_SOURCE
#define _BSD_SOURCE
#define SET_LOCAL_BSD_SOURCE 1
#endif
#include <endian.h>
#ifdef SET_LOCAL_BSD_SOURCE
#undef _BSD_SOURCE
#endif
