/*
 * k2hattrfunc.h: the functions an attribute plugin library exports (k2hash-rs).
 * Written for k2hash-rs with the names of the original library's header; not generated.
 *
 * A plugin loaded with k2h_add_attr_plugin_library() defines:
 *   bool k2hattr_initialize(void)              called once after loading
 *   const char* k2hattr_get_version(void)      version text shown by k2h_print_attr_version
 *   const char* k2hattr_get_key_name(void)     the attribute name it maintains (fixed)
 *   unsigned char* k2hattr_update(size_t* psize, key, keylen, value, vallen)
 *                                              the attribute value for a key being written,
 *                                              malloc'd (the library frees it), NULL for none
 */
#ifndef K2ATTRFUNC_H
#define K2ATTRFUNC_H

#include "k2hash.h"
#include "k2hcommon.h"

DECL_EXTERN_C_START

typedef bool (*Tfp_k2hattr_initialize)(void);
typedef const char *(*Tfp_k2hattr_get_version)(void);
typedef const char *(*Tfp_k2hattr_get_key_name)(void);
typedef unsigned char *(*Tfp_k2hattr_update)(size_t *psize, const unsigned char *key, size_t keylen,
                                              const unsigned char *value, size_t vallen);

DECL_EXTERN_C_END

#endif /* K2ATTRFUNC_H */
