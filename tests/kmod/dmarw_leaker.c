// SPDX-License-Identifier: GPL-2.0
/*
 * dmarw_leaker - a second dmaengine client that takes channels and never
 * gives them back, for the planted-leak storm of tests/vm/bench_smoke.sh
 * and tools/bench (issue 10): while dmarw_client cycles request/release on
 * every CPU, this module takes one channel from another function and
 * another module, and the tracer must name it, not the cycling module.
 *
 * /sys/kernel/debug/dmarw_leaker/:
 *
 *   ctl     write "take": dmarw_leaker_take() requests one DMA_MEMCPY
 *           channel of a dmarw_prov device by mask and forgets it (the
 *           reference is never released, not even at unload)
 *   result  the last command: "ok take CHAN" or "err take -ERRNO"
 *   taken   how many channels were taken since load
 *
 * The leaked channels keep dmarw_prov pinned until reboot.
 */
#include <linux/module.h>
#include <linux/device.h>
#include <linux/dmaengine.h>
#include <linux/debugfs.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#define DRV_NAME "dmarw_leaker"

/* not static, not inlined: the holder's function in kernel stacks and kallsyms */
int dmarw_leaker_take(char *name, size_t len);

static struct dentry *leaker_dir;
static DEFINE_MUTEX(leaker_lock);	/* serializes commands */
static char result[64] = "none\n";
static int taken;

static bool dmarw_leaker_filter(struct dma_chan *chan, void *param)
{
	return !strncmp(dev_name(chan->device->dev), "dmarw_prov.", 11);
}

/* takes a channel and returns without keeping it anywhere: the leak */
noinline int dmarw_leaker_take(char *name, size_t len)
{
	struct dma_chan *chan;
	dma_cap_mask_t mask;

	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	chan = dma_request_channel(mask, dmarw_leaker_filter, NULL);
	if (!chan)
		return -ENODEV;
	/* the name from the ids: dma_chan_name() reads chan->dev */
	snprintf(name, len, "dma%dchan%d", chan->device->dev_id, chan->chan_id);
	barrier();
	return 0;
}

static ssize_t ctl_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	char buf[16], name[32];
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	if (strcmp(strim(buf), "take"))
		return -EINVAL;
	mutex_lock(&leaker_lock);
	ret = dmarw_leaker_take(name, sizeof(name));
	if (ret) {
		snprintf(result, sizeof(result), "err take %d\n", ret);
	} else {
		taken++;
		snprintf(result, sizeof(result), "ok take %s\n", name);
	}
	mutex_unlock(&leaker_lock);
	return ret ? ret : count;
}

static ssize_t result_read(struct file *file, char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	char buf[sizeof(result)];
	size_t len;

	mutex_lock(&leaker_lock);
	len = strscpy(buf, result, sizeof(buf));
	mutex_unlock(&leaker_lock);
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static ssize_t taken_read(struct file *file, char __user *ubuf,
			  size_t count, loff_t *ppos)
{
	char buf[16];
	int len;

	mutex_lock(&leaker_lock);
	len = scnprintf(buf, sizeof(buf), "%d\n", taken);
	mutex_unlock(&leaker_lock);
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static const struct file_operations ctl_fops = {
	.owner = THIS_MODULE,
	.write = ctl_write,
	.llseek = noop_llseek,
};

static const struct file_operations result_fops = {
	.owner = THIS_MODULE,
	.read = result_read,
	.llseek = default_llseek,
};

static const struct file_operations taken_fops = {
	.owner = THIS_MODULE,
	.read = taken_read,
	.llseek = default_llseek,
};

static int __init dmarw_leaker_init(void)
{
	leaker_dir = debugfs_create_dir(DRV_NAME, NULL);
	debugfs_create_file("ctl", 0200, leaker_dir, NULL, &ctl_fops);
	debugfs_create_file("result", 0444, leaker_dir, NULL, &result_fops);
	debugfs_create_file("taken", 0444, leaker_dir, NULL, &taken_fops);
	return 0;
}

static void __exit dmarw_leaker_exit(void)
{
	debugfs_remove_recursive(leaker_dir);
	if (taken)
		pr_info(DRV_NAME ": %d channel(s) taken and never released\n", taken);
}

module_init(dmarw_leaker_init);
module_exit(dmarw_leaker_exit);
MODULE_DESCRIPTION("dmarefwatch test: a client that leaks dmaengine channels");
MODULE_AUTHOR("dmarefwatch");
MODULE_LICENSE("GPL");
