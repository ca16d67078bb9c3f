// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* dmarefwatch top: not built yet (issue 4). */
#include "cli.h"

int cmd_top(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	p_err("top is not implemented yet");
	return EXIT_ERROR;
}
