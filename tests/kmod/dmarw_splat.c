// SPDX-License-Identifier: GPL-2.0
/*
 * dmarw_splat - provoke a kernel splat on load, to test that the VM harness
 * catches it:  insmod dmarw_splat.ko what=warn|oops
 *   warn  WARN() once, the load succeeds
 *   oops  BUG() in module init: an oops that kills insmod
 */
#include <linux/module.h>
#include <linux/bug.h>
#include <linux/string.h>

static char *what = "warn";
module_param(what, charp, 0444);
MODULE_PARM_DESC(what, "warn or oops");

static noinline void dmarw_splat_oops(void)
{
	pr_emerg("dmarw_splat: oops requested\n");
	BUG();
}

static int __init dmarw_splat_init(void)
{
	if (!strcmp(what, "warn")) {
		WARN(1, "dmarw_splat: warning requested\n");
		return 0;
	}
	if (!strcmp(what, "oops")) {
		dmarw_splat_oops();
		return 0;
	}
	return -EINVAL;
}

static void __exit dmarw_splat_exit(void)
{
}

module_init(dmarw_splat_init);
module_exit(dmarw_splat_exit);
MODULE_DESCRIPTION("dmarefwatch harness test: provoke a kernel splat");
MODULE_LICENSE("GPL");
