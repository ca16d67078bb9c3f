/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Suppression files: findings expected in CI, valgrind style.
 *
 *	# comment
 *	{
 *		client-keeps-channel-on-purpose
 *		kind: leaked-reference
 *		device: dma0*
 *		function: my_client_*
 *		module: my_client
 *	}
 *
 * See docs/suppressions.md.
 */
#ifndef __DMARW_SUPPRESS_H
#define __DMARW_SUPPRESS_H

#include <stddef.h>
#include <stdint.h>
#include "finding.h"

struct suppressions;

/* NULL on error with "FILE:LINE: what" in @err. */
struct suppressions *suppress__load(const char *path, char *err, size_t errlen);
/* Same from memory; @name is used in messages. */
struct suppressions *suppress__parse(const char *text, size_t len, const char *name,
				     char *err, size_t errlen);
void suppress__free(struct suppressions *supp);

/* Name of the first suppression matching @f (and count the use), or NULL. */
const char *suppress__match(struct suppressions *supp, const struct finding *f);

size_t suppress__count(const struct suppressions *supp);
const char *suppress__name(const struct suppressions *supp, size_t i);
uint64_t suppress__used(const struct suppressions *supp, size_t i);

#endif /* __DMARW_SUPPRESS_H */
