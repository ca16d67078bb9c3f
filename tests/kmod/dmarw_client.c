// SPDX-License-Identifier: GPL-2.0
/*
 * dmarw_client - a scriptable dmaengine client for the dmarefwatch tests.
 *
 * Registers the platform device "dmarw_client" (the device that
 * dma_request_chan() is called for) and /sys/kernel/debug/dmarw_client/:
 *
 *   ctl     write one command per write():
 *             request SLOT mask [PROVDEV]   dma_request_channel(DMA_MEMCPY)
 *             request SLOT name NAME        dma_request_chan(client, NAME)
 *             release SLOT                  dma_release_channel()
 *             release-twice SLOT            dma_release_channel() twice (bug)
 *             forget SLOT                   drop the pointer, keep the reference
 *             errpath SLOT                  request, then a failing setup step
 *                                           that returns without releasing
 *             get | put                     dmaengine_get() / dmaengine_put()
 *             loop COUNT [NTHREADS]         request+release loops in kthreads
 *             memcpy SLOT LEN               copy LEN bytes through the channel
 *           SLOT is 0..15.  A failing command fails the write() with its errno.
 *   result  the last command: "ok CMD SLOT CHAN" or "err CMD SLOT -ERRNO";
 *           "ok loop CYCLES FAILURES"; "ok get - -"; "ok errpath SLOT CHAN"
 *           (CHAN is the channel leaked by the error path)
 *   slots   one line per held slot: "SLOT CHAN"
 *
 * On unload every held slot is released (forgotten ones are not) and
 * outstanding get's are balanced with put's.
 *
 * Parameter leak_at_init=1: the module's init requests a channel by mask
 * and forgets it, from a function in .init.text (gone, and gone from
 * kallsyms, once init is done).
 *
 * Parameter probe_chan=NAME: a platform driver "dmarw_client" binds the
 * device, its probe requests channel NAME (dma_request_chan()) and its
 * remove releases it, unless leak_in_remove=1 (writable at run time):
 * then remove forgets it, the bug of a driver whose remove() misses
 * dma_release_channel().  Unbind and bind through
 * /sys/bus/platform/drivers/dmarw_client/.
 */
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/dmaengine.h>
#include <linux/dma-mapping.h>
#include <linux/debugfs.h>
#include <linux/kthread.h>
#include <linux/completion.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/cpumask.h>
#include <linux/atomic.h>
#include <linux/version.h>

#define DRV_NAME "dmarw_client"
#define NSLOTS 16
#define MAX_THREADS 64
#define MAX_MEMCPY (4 << 20)

/* not static, not inlined: these show up in kernel stacks and kallsyms */
int dmarw_client_request_by_mask(int slot, const char *provdev);
int dmarw_client_request_by_name(int slot, const char *name);
void dmarw_client_release(struct dma_chan *chan);
void dmarw_client_release_twice(struct dma_chan *chan);
int dmarw_client_setup_errpath(char *leaked, size_t len);
void dmarw_client_dmaengine_get(void);
void dmarw_client_dmaengine_put(void);
int dmarw_client_loop_one(void);

struct dmarw_slot {
	struct dma_chan *chan;
	char name[32];
};

static struct platform_device *client_pdev;
static struct dentry *client_dir;
static DEFINE_MUTEX(client_lock);	/* serializes commands */
static struct dmarw_slot slots[NSLOTS];
static char result[160] = "none\n";
static int ngets;

static bool dmarw_client_filter(struct dma_chan *chan, void *param)
{
	return !param || !strcmp(dev_name(chan->device->dev), param);
}

/*
 * dma_chan_name() reads chan->dev, which the core frees when the device is
 * unregistered even while the channel is held: build the name from the ids.
 */
static void dmarw_chan_name(struct dma_chan *chan, char *buf, size_t len)
{
	snprintf(buf, len, "dma%dchan%d", chan->device->dev_id, chan->chan_id);
}

static void slot_set(int slot, struct dma_chan *chan)
{
	slots[slot].chan = chan;
	dmarw_chan_name(chan, slots[slot].name, sizeof(slots[slot].name));
}

noinline int dmarw_client_request_by_mask(int slot, const char *provdev)
{
	struct dma_chan *chan;
	dma_cap_mask_t mask;

	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	chan = dma_request_channel(mask, dmarw_client_filter, (void *)provdev);
	if (!chan)
		return -ENODEV;
	slot_set(slot, chan);
	return 0;
}

noinline int dmarw_client_request_by_name(int slot, const char *name)
{
	struct dma_chan *chan;

	chan = dma_request_chan(&client_pdev->dev, name);
	if (IS_ERR(chan))
		return PTR_ERR(chan);
	slot_set(slot, chan);
	return 0;
}

noinline void dmarw_client_release(struct dma_chan *chan)
{
	dma_release_channel(chan);
	barrier();
}

noinline void dmarw_client_release_twice(struct dma_chan *chan)
{
	dma_release_channel(chan);
	/* the bug under test: a second release of the same reference */
	dma_release_channel(chan);
	barrier();
}

static noinline int dmarw_client_setup_step(struct dma_chan *chan)
{
	/* the simulated hardware setup that fails */
	return chan ? -EIO : -EINVAL;
}

/* the classic error-path leak: returns without releasing the channel */
noinline int dmarw_client_setup_errpath(char *leaked, size_t len)
{
	struct dma_chan *chan;
	dma_cap_mask_t mask;
	int ret;

	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	chan = dma_request_channel(mask, dmarw_client_filter, NULL);
	if (!chan)
		return -ENODEV;
	dmarw_chan_name(chan, leaked, len);
	ret = dmarw_client_setup_step(chan);
	if (ret)
		return ret;	/* BUG: chan leaked */
	dma_release_channel(chan);
	return 0;
}

noinline void dmarw_client_dmaengine_get(void)
{
	dmaengine_get();
	barrier();
}

noinline void dmarw_client_dmaengine_put(void)
{
	dmaengine_put();
	barrier();
}

struct loop_ctl {
	int count;
	atomic_t cycles;
	atomic_t failures;
	atomic_t running;
	struct completion done;
};

noinline int dmarw_client_loop_one(void)
{
	struct dma_chan *chan;
	dma_cap_mask_t mask;

	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	chan = dma_request_channel(mask, dmarw_client_filter, NULL);
	if (!chan)
		return -ENODEV;
	dma_release_channel(chan);
	barrier();
	return 0;
}

static int dmarw_client_loop_thread(void *arg)
{
	struct loop_ctl *lc = arg;
	int i;

	for (i = 0; i < lc->count; i++) {
		if (dmarw_client_loop_one())
			atomic_inc(&lc->failures);
		atomic_inc(&lc->cycles);
		cond_resched();
	}
	if (atomic_dec_and_test(&lc->running))
		complete(&lc->done);
	return 0;
}

static int dmarw_client_loop(int count, int nthreads, int *cycles, int *failures)
{
	struct task_struct *t;
	struct loop_ctl *lc;
	int i, cpu, started = 0;

	lc = kzalloc(sizeof(*lc), GFP_KERNEL);
	if (!lc)
		return -ENOMEM;
	lc->count = count;
	init_completion(&lc->done);
	atomic_set(&lc->running, nthreads + 1);
	cpu = cpumask_first(cpu_online_mask);
	for (i = 0; i < nthreads; i++) {
		t = kthread_create(dmarw_client_loop_thread, lc, "dmarw_loop/%d", i);
		if (IS_ERR(t))
			break;
		kthread_bind(t, cpu);
		wake_up_process(t);
		started++;
		cpu = cpumask_next(cpu, cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_online_mask);
	}
	/* threads that could not start, and our own count */
	if (atomic_sub_and_test(nthreads - started + 1, &lc->running))
		complete(&lc->done);
	wait_for_completion(&lc->done);
	*cycles = atomic_read(&lc->cycles);
	*failures = atomic_read(&lc->failures);
	kfree(lc);
	return started ? 0 : -ENOMEM;
}

static void dmarw_memcpy_done(void *arg)
{
	complete(arg);
}

static int dmarw_client_memcpy(struct dma_chan *chan, size_t len)
{
	struct device *dev = chan->device->dev;
	struct dma_async_tx_descriptor *tx;
	DECLARE_COMPLETION_ONSTACK(done);
	dma_addr_t src_dma, dst_dma;
	u8 *src, *dst;
	dma_cookie_t cookie;
	size_t i;
	int ret = 0;

	if (!len || len > MAX_MEMCPY)
		return -EINVAL;
	src = kmalloc(len, GFP_KERNEL);
	dst = kzalloc(len, GFP_KERNEL);
	if (!src || !dst) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < len; i++)
		src[i] = (u8)(i * 7 + 3);
	src_dma = dma_map_single(dev, src, len, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, src_dma)) {
		ret = -EIO;
		goto out_free;
	}
	dst_dma = dma_map_single(dev, dst, len, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, dst_dma)) {
		ret = -EIO;
		goto out_unmap_src;
	}
	tx = dmaengine_prep_dma_memcpy(chan, dst_dma, src_dma, len,
				       DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
	if (!tx) {
		ret = -EIO;
		goto out_unmap;
	}
	tx->callback = dmarw_memcpy_done;
	tx->callback_param = &done;
	cookie = dmaengine_submit(tx);
	if (dma_submit_error(cookie)) {
		ret = -EIO;
		goto out_unmap;
	}
	dma_async_issue_pending(chan);
	if (!wait_for_completion_timeout(&done, msecs_to_jiffies(5000))) {
		dmaengine_terminate_sync(chan);
		ret = -ETIMEDOUT;
		goto out_unmap;
	}
	if (dma_async_is_tx_complete(chan, cookie, NULL, NULL) != DMA_COMPLETE)
		ret = -EIO;
out_unmap:
	dma_unmap_single(dev, dst_dma, len, DMA_FROM_DEVICE);
out_unmap_src:
	dma_unmap_single(dev, src_dma, len, DMA_TO_DEVICE);
	if (!ret && memcmp(src, dst, len))
		ret = -EILSEQ;
out_free:
	kfree(src);
	kfree(dst);
	return ret;
}

static int parse_slot(const char *s, int *slot)
{
	if (!s || kstrtoint(s, 10, slot) || *slot < 0 || *slot >= NSLOTS)
		return -EINVAL;
	return 0;
}

#define NARGS 5

/* "get" / "put": dmaengine_get() / dmaengine_put() */
static int dmarw_client_cmd_get_put(const char *cmd)
{
	int ret = 0;

	if (cmd[0] == 'g') {
		dmarw_client_dmaengine_get();
		ngets++;
	} else if (!ngets) {
		ret = -EALREADY;
	} else {
		dmarw_client_dmaengine_put();
		ngets--;
	}
	if (ret)
		snprintf(result, sizeof(result), "err %s - %d\n", cmd, ret);
	else
		snprintf(result, sizeof(result), "ok %s - -\n", cmd);
	return ret;
}

/* "loop CYCLES [THREADS]": request/release cycles on kthreads */
static int dmarw_client_cmd_loop(int argc, char **argv)
{
	int ret, a, b, cycles, failures;

	if (argc < 2 || argc > 3 || kstrtoint(argv[1], 10, &a) || a < 0)
		return -EINVAL;
	b = num_online_cpus();
	if (argc == 3 && (kstrtoint(argv[2], 10, &b) || b < 1 || b > MAX_THREADS))
		return -EINVAL;
	ret = dmarw_client_loop(a, b, &cycles, &failures);
	if (ret)
		snprintf(result, sizeof(result), "err loop - %d\n", ret);
	else
		snprintf(result, sizeof(result), "ok loop %d %d\n", cycles, failures);
	return ret;
}

static int dmarw_client_cmd(char *buf)
{
	char *argv[NARGS] = { NULL };
	char *p = strim(buf), *tok;
	char leaked[32] = "-";
	int argc = 0, slot = -1, ret = 0, a;
	const char *cmd;

	while ((tok = strsep(&p, " \t")) != NULL) {
		if (!*tok)
			continue;
		if (argc == NARGS)
			return -EINVAL;
		argv[argc++] = tok;
	}
	if (!argc)
		return -EINVAL;
	cmd = argv[0];

	if (!strcmp(cmd, "get") || !strcmp(cmd, "put"))
		return argc == 1 ? dmarw_client_cmd_get_put(cmd) : -EINVAL;
	if (!strcmp(cmd, "loop"))
		return dmarw_client_cmd_loop(argc, argv);

	if (argc < 2 || parse_slot(argv[1], &slot))
		return -EINVAL;

	if (!strcmp(cmd, "request")) {
		if (argc < 3 || slots[slot].chan)
			ret = argc < 3 ? -EINVAL : -EBUSY;
		else if (!strcmp(argv[2], "mask") && argc <= 4)
			ret = dmarw_client_request_by_mask(slot, argc == 4 ? argv[3] : NULL);
		else if (!strcmp(argv[2], "name") && argc == 4)
			ret = dmarw_client_request_by_name(slot, argv[3]);
		else
			return -EINVAL;
	} else if (!strcmp(cmd, "release") || !strcmp(cmd, "release-twice") ||
		   !strcmp(cmd, "forget")) {
		if (argc != 2)
			return -EINVAL;
		if (!slots[slot].chan) {
			ret = -ENOENT;
		} else {
			if (!strcmp(cmd, "release"))
				dmarw_client_release(slots[slot].chan);
			else if (!strcmp(cmd, "release-twice"))
				dmarw_client_release_twice(slots[slot].chan);
			strscpy(leaked, slots[slot].name, sizeof(leaked));
			slots[slot].chan = NULL;
		}
	} else if (!strcmp(cmd, "errpath")) {
		if (argc != 2)
			return -EINVAL;
		ret = dmarw_client_setup_errpath(leaked, sizeof(leaked));
		/* the error-path scenario ran as asked when the setup step failed */
		ret = ret == -EIO ? 0 : (ret ? ret : -EPROTO);
	} else if (!strcmp(cmd, "memcpy")) {
		if (argc != 3 || kstrtoint(argv[2], 0, &a) || a <= 0)
			return -EINVAL;
		if (!slots[slot].chan)
			ret = -ENOENT;
		else
			ret = dmarw_client_memcpy(slots[slot].chan, a);
	} else {
		return -EINVAL;
	}

	if (ret)
		snprintf(result, sizeof(result), "err %s %d %d\n", cmd, slot, ret);
	else if (slots[slot].chan)
		snprintf(result, sizeof(result), "ok %s %d %s\n", cmd, slot, slots[slot].name);
	else
		snprintf(result, sizeof(result), "ok %s %d %s\n", cmd, slot, leaked);
	return ret;
}

static ssize_t ctl_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	char buf[128];
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	mutex_lock(&client_lock);
	/* what a command that cannot be parsed leaves */
	snprintf(result, sizeof(result), "err invalid - %d\n", -EINVAL);
	ret = dmarw_client_cmd(buf);
	mutex_unlock(&client_lock);
	return ret ? ret : count;
}

static ssize_t result_read(struct file *file, char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	char buf[sizeof(result)];
	size_t len;

	mutex_lock(&client_lock);
	len = strscpy(buf, result, sizeof(buf));
	mutex_unlock(&client_lock);
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static ssize_t slots_read(struct file *file, char __user *ubuf,
			  size_t count, loff_t *ppos)
{
	char *buf;
	size_t len = 0, size = NSLOTS * 48 + 1;
	ssize_t ret;
	int i;

	buf = kzalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	mutex_lock(&client_lock);
	for (i = 0; i < NSLOTS; i++)
		if (slots[i].chan)
			len += scnprintf(buf + len, size - len, "%d %s\n", i, slots[i].name);
	mutex_unlock(&client_lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, buf, len);
	kfree(buf);
	return ret;
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

static const struct file_operations slots_fops = {
	.owner = THIS_MODULE,
	.read = slots_read,
	.llseek = default_llseek,
};

static bool leak_at_init;
module_param(leak_at_init, bool, 0444);
MODULE_PARM_DESC(leak_at_init, "request a channel in init and never release it");

static noinline int __init dmarw_client_init_leak(void)
{
	int ret = dmarw_client_request_by_mask(NSLOTS - 1, NULL);

	if (!ret)
		slots[NSLOTS - 1].chan = NULL;	/* forgotten: leaked */
	return ret;
}

static char *probe_chan;
module_param(probe_chan, charp, 0444);
MODULE_PARM_DESC(probe_chan, "bind a driver whose probe requests this channel name");
static bool leak_in_remove;
module_param(leak_in_remove, bool, 0644);
MODULE_PARM_DESC(leak_in_remove, "the driver's remove() forgets its channel");
static struct dma_chan *probe_held;

static noinline int dmarw_client_probe(struct platform_device *pdev)
{
	struct dma_chan *chan = dma_request_chan(&pdev->dev, probe_chan);

	if (IS_ERR(chan))
		return PTR_ERR(chan);
	probe_held = chan;
	return 0;
}

static noinline void dmarw_client_remove_chan(void)
{
	if (probe_held && !leak_in_remove)
		dma_release_channel(probe_held);
	probe_held = NULL;	/* with leak_in_remove: forgotten, still held */
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
static void dmarw_client_remove(struct platform_device *pdev)
{
	dmarw_client_remove_chan();
}
#else
static int dmarw_client_remove(struct platform_device *pdev)
{
	dmarw_client_remove_chan();
	return 0;
}
#endif

static struct platform_driver client_driver = {
	.probe = dmarw_client_probe,
	.remove = dmarw_client_remove,
	.driver = { .name = DRV_NAME },
};
static bool driver_registered;

static int __init dmarw_client_init(void)
{
	client_pdev = platform_device_register_simple(DRV_NAME, -1, NULL, 0);
	if (IS_ERR(client_pdev))
		return PTR_ERR(client_pdev);
	client_dir = debugfs_create_dir(DRV_NAME, NULL);
	debugfs_create_file("ctl", 0200, client_dir, NULL, &ctl_fops);
	debugfs_create_file("result", 0444, client_dir, NULL, &result_fops);
	debugfs_create_file("slots", 0444, client_dir, NULL, &slots_fops);
	if (leak_at_init && dmarw_client_init_leak())
		pr_warn(DRV_NAME ": leak_at_init: no channel\n");
	if (probe_chan && probe_chan[0]) {
		int ret = platform_driver_register(&client_driver);

		if (ret)
			pr_warn(DRV_NAME ": driver: %d\n", ret);
		driver_registered = !ret;
	}
	return 0;
}

static void __exit dmarw_client_exit(void)
{
	int i;

	debugfs_remove_recursive(client_dir);
	mutex_lock(&client_lock);
	for (i = 0; i < NSLOTS; i++) {
		if (slots[i].chan) {
			pr_info(DRV_NAME ": releasing slot %d (%s) at unload\n",
				i, slots[i].name);
			dmarw_client_release(slots[i].chan);
			slots[i].chan = NULL;
		}
	}
	while (ngets > 0) {
		dmarw_client_dmaengine_put();
		ngets--;
	}
	mutex_unlock(&client_lock);
	if (driver_registered)
		platform_driver_unregister(&client_driver);
	platform_device_unregister(client_pdev);
}

module_init(dmarw_client_init);
module_exit(dmarw_client_exit);
MODULE_DESCRIPTION("dmarefwatch scriptable dmaengine client");
MODULE_AUTHOR("dmarefwatch");
MODULE_LICENSE("GPL");
