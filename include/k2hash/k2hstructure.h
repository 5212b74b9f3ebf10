/*
 * k2hstructure.h: the layout of a k2hash file or memory area (k2hash-rs).
 * Written for k2hash-rs from the format notes; names and layouts are those of the original
 * library's header, because files are byte-compatible both ways. Pointers inside the mapped
 * area are stored as offsets from its start (CVT_ABS / CVT_REL convert). Not generated.
 */
#ifndef K2HSTRUCTURE_H
#define K2HSTRUCTURE_H

#include "k2hash.h"
#include "k2hcommon.h"

DECL_EXTERN_C_START

/* File header */
#define K2H_VERSION 2                   /* format version */
#define K2H_VERSION_FORMAT "K2H V%d"    /* version text, 8 bytes with its NUL */
#define MAX_K2HAREA_COUNT 2048          /* entries of k2hash.areas */
#define MAX_KINDEX_AREA_COUNT 32        /* entries of k2hash.key_index_area (one per mask bit) */

/* key_index.assign */
#define KINDEX_NOTASSIGNED 0L
#define KINDEX_ASSIGNED 1L

/* offset <-> address inside a mapped area */
#if defined(__cplusplus)
#define CVT_ABS(base, offset, type) reinterpret_cast<type>(reinterpret_cast<off_t>(base) + reinterpret_cast<off_t>(offset))
#define CVT_REL(base, address, type) reinterpret_cast<type>(reinterpret_cast<off_t>(address) - reinterpret_cast<off_t>(base))
#else
#define CVT_ABS(base, offset, type) (type)((off_t)(base) + (off_t)(offset))
#define CVT_REL(base, address, type) (type)((off_t)(address) - (off_t)(base))
#endif

/* One page: a link in a chain holding a key, value, subkey list or attribute list. */
typedef struct page_head {
    struct page_head *prev;
    struct page_head *next;
    size_t length;          /* bytes of data in this page */
    unsigned char data[1];  /* the data starts here */
} K2HASH_ATTR_PACKED PAGEHEAD, *PPAGEHEAD;

typedef union page_wrap {
    unsigned char barray[sizeof(PAGEHEAD)];
    PAGEHEAD pagehead;
} K2HASH_ATTR_PACKED PAGEWRAP, *PPAGEWRAP;

#define PAGEHEAD_PREV_OFFSET 0L
#if defined(__cplusplus)
#define PAGEHEAD_NEXT_OFFSET static_cast<off_t>(sizeof(PPAGEHEAD))
#else
#define PAGEHEAD_NEXT_OFFSET (off_t)(sizeof(PPAGEHEAD))
#endif
#define PAGEHEAD_DATA_OFFSET (sizeof(PAGEHEAD) - sizeof(unsigned char))
#define PAGEHEAD_SIZE (sizeof(PAGEHEAD) - sizeof(unsigned char))

/* One stored key: a node of the binary tree of its collision index, ordered by subhash. */
typedef struct element {
    struct element *small;
    struct element *big;
    struct element *parent;
    struct element *same;   /* elements with the same hashes */
    k2h_hash_t hash;
    k2h_hash_t subhash;
    PPAGEHEAD key;
    PPAGEHEAD value;
    PPAGEHEAD subkeys;
    PPAGEHEAD attrs;        /* format version 2 */
    size_t keylength;
    size_t vallength;
    size_t skeylength;
    size_t attrlength;      /* format version 2 */
} K2HASH_ATTR_PACKED ELEMENT, *PELEMENT;

/* Elements whose masked hash collide. */
typedef struct collision_key_index {
    unsigned long element_count;
    PELEMENT element_list;  /* root of the tree */
} K2HASH_ATTR_PACKED CKINDEX, *PCKINDEX;

/* One slot of the key index. */
typedef struct key_index {
    long assign;            /* KINDEX_NOTASSIGNED / KINDEX_ASSIGNED */
    k2h_hash_t shifted_mask;
    k2h_hash_t masked_hash;
    PCKINDEX ckey_list;
} K2HASH_ATTR_PACKED KINDEX, *PKINDEX;

/* One area of the file. */
typedef struct k2h_area {
    long type;              /* K2H_AREA_* */
    off_t file_offset;
    size_t length;
} K2HASH_ATTR_PACKED K2HAREA, *PK2HAREA;

#define K2H_AREA_UNKNOWN 0L
#define K2H_AREA_K2H 1L
#define K2H_AREA_KINDEX 2L
#define K2H_AREA_CKINDEX 4L
#define K2H_AREA_PAGELIST 8L
#define K2H_AREA_PAGE 16L

/* The header at offset 0. */
typedef struct k2hash {
    char version[K2H_VERSION_LENGTH];
    char hash_version[K2H_HASH_FUNC_VER_LENGTH];
    size_t total_size;
    size_t page_size;
    k2h_hash_t max_mask;
    k2h_hash_t min_mask;
    k2h_hash_t cur_mask;
    k2h_hash_t collision_mask;
    unsigned long max_element_count;
    struct timeval last_update;
    struct timeval last_area_update;
    K2HAREA areas[MAX_K2HAREA_COUNT];
    PKINDEX key_index_area[MAX_KINDEX_AREA_COUNT];
    long free_element_count;
    PELEMENT pfree_elements;
    long free_page_count;
    PPAGEHEAD pfree_pages;
    off_t unassign_area;    /* where the next area goes */
    void *pextra;
} K2HASH_ATTR_PACKED K2H, *PK2H;

/* The marker value of a queue: first and last entry key, stored after the structure. */
typedef struct k2h_marker {
    size_t startlen;
    off_t startoff;         /* from the start of this structure */
    size_t endlen;
    off_t endoff;
} K2HASH_ATTR_PACKED K2HMARKER, *PK2HMARKER;

typedef union binary_k2h_marker {
    unsigned char byData[sizeof(K2HMARKER)];
    K2HMARKER marker;
} K2HASH_ATTR_PACKED BK2HMARKER, *PBK2HMARKER;

DECL_EXTERN_C_END

#endif /* K2HSTRUCTURE_H */
