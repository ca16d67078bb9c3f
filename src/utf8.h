/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* UTF-8 validation shared by the JSON writer, the JSON parser and JUnit XML. */
#ifndef __DMARW_UTF8_H
#define __DMARW_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length of the valid UTF-8 sequence at @s (at most @len bytes, len >= 1),
 * 0 if invalid (overlong, surrogate, beyond U+10FFFF, truncated).  The code
 * point goes to *cp when cp is not NULL.
 */
size_t utf8_seq(const unsigned char *s, size_t len, uint32_t *cp);

#endif /* __DMARW_UTF8_H */
