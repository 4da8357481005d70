/* zlib (RFC 1950/1951) for THeader's zlib transform; Debian: zlib1g-dev. */
#include <zlib.h>
