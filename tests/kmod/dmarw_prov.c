// SPDX-License-Identifier: GPL-2.0
/*
 * dmarw_prov - a software dmaengine provider for the dmarefwatch tests.
 *
 * Registers "ndev" platform devices dmarw_prov.0, dmarw_prov.1, ... bound to
 * the platform driver "dmarw_prov".  Each bound device registers a dmaengine
 * device with "nchan" channels that can really copy memory (DMA_MEMCPY,
 * completed from a workqueue through the standard cookie helpers).  Unbinding
 * through sysfs runs dma_async_device_unregister().
 *
 * Knobs (module parameters; fail_alloc is also writable at run time in
 * /sys/module/dmarw_prov/parameters/fail_alloc):
 *   ndev, nchan   number of devices and of channels per device
 *   no_release    do not set device_release (the memory is leaked)
 *   private       register with DMA_PRIVATE in cap_mask
 *   fail_alloc    device_alloc_chan_resources() fails with -ENOMEM
 *   alloc_after_remove
 *                 let a channel of an unbound device be allocated (the
 *                 dmaengine core still hands them out while a client keeps
 *                 the device alive); by default that fails with -EBUSY
 *
 * With device_release set, the state is released by the kref release of the
 * dma_device, not by remove, so unbinding while a client holds a channel
 * stays memory-safe.  The memory itself is returned only at module unload:
 * dma_release_channel() still writes to the device after its last put (6.1),
 * and a tracer may read it after the release.
 *
 * dma_slave_map of dmarw_prov.0: dma_request_chan(dmarw_client, "tx") gets
 * channel 0, "rx" channel 1.
 */
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/dmaengine.h>
#include <linux/dma-mapping.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/list.h>
#include <linux/io.h>
#include <linux/version.h>

#define DRV_NAME "dmarw_prov"
#define DMARW_MAX_DEV 16
#define DMARW_MAX_CHAN 32

static int ndev = 1;
module_param(ndev, int, 0444);
MODULE_PARM_DESC(ndev, "number of platform devices (1..16)");
static int nchan = 4;
module_param(nchan, int, 0444);
MODULE_PARM_DESC(nchan, "channels per device (1..32)");
static bool no_release;
module_param(no_release, bool, 0644);
MODULE_PARM_DESC(no_release, "do not set device_release (leak the device)");
static bool private;
module_param(private, bool, 0644);
MODULE_PARM_DESC(private, "register with DMA_PRIVATE");
static bool fail_alloc;
module_param(fail_alloc, bool, 0644);
MODULE_PARM_DESC(fail_alloc, "device_alloc_chan_resources returns -ENOMEM");
static bool alloc_after_remove;
module_param(alloc_after_remove, bool, 0644);
MODULE_PARM_DESC(alloc_after_remove, "allocate channels of an unbound device");

struct dmarw_desc {
	struct dma_async_tx_descriptor tx;
	struct list_head node;
	dma_addr_t dst;
	dma_addr_t src;
	size_t len;
};

struct dmarw_chan {
	struct dma_chan chan;
	spinlock_t lock;		/* protects the lists and the cookies */
	struct list_head submitted;
	struct list_head issued;
	struct work_struct work;
	bool allocated;
};

struct dmarw_dev {
	struct dma_device dma;
	struct platform_device *pdev;
	struct list_head graveyard;	/* released or leaked devices */
	bool released;
	bool removed;
	int nchan;
	struct dmarw_chan chans[];
};

static struct platform_device *dmarw_pdevs[DMARW_MAX_DEV];
static LIST_HEAD(dmarw_graveyard);
static DEFINE_MUTEX(dmarw_graveyard_lock);

static const struct dma_slave_map dmarw_slave_map[] = {
	{ "dmarw_client", "tx", (void *)0UL },
	{ "dmarw_client", "rx", (void *)1UL },
};

/* the cookie helpers of drivers/dma/dmaengine.h (private to drivers/dma) */
static inline void dmarw_cookie_init(struct dma_chan *chan)
{
	chan->cookie = DMA_MIN_COOKIE;
	chan->completed_cookie = DMA_MIN_COOKIE;
}

static inline dma_cookie_t dma_cookie_assign(struct dma_async_tx_descriptor *tx)
{
	struct dma_chan *chan = tx->chan;
	dma_cookie_t cookie;

	cookie = chan->cookie + 1;
	if (cookie < DMA_MIN_COOKIE)
		cookie = DMA_MIN_COOKIE;
	tx->cookie = chan->cookie = cookie;
	return cookie;
}

static inline void dma_cookie_complete(struct dma_async_tx_descriptor *tx)
{
	BUG_ON(tx->cookie < DMA_MIN_COOKIE);
	tx->chan->completed_cookie = tx->cookie;
	tx->cookie = 0;
}

static inline enum dma_status dma_cookie_status(struct dma_chan *chan,
						dma_cookie_t cookie,
						struct dma_tx_state *state)
{
	dma_cookie_t used, complete;

	used = chan->cookie;
	complete = chan->completed_cookie;
	barrier();
	if (state) {
		memset(state, 0, sizeof(*state));
		state->last = complete;
		state->used = used;
	}
	return dma_async_is_complete(cookie, complete, used);
}

static inline struct dmarw_chan *to_dmarw_chan(struct dma_chan *chan)
{
	return container_of(chan, struct dmarw_chan, chan);
}

static inline struct dmarw_dev *to_dmarw_dev(struct dma_device *dma)
{
	return container_of(dma, struct dmarw_dev, dma);
}

static void dmarw_free_list(struct list_head *list)
{
	struct dmarw_desc *d, *n;

	list_for_each_entry_safe(d, n, list, node) {
		list_del(&d->node);
		kfree(d);
	}
}

/* the "hardware": copy, complete the cookie, run the callback */
static void dmarw_work(struct work_struct *work)
{
	struct dmarw_chan *c = container_of(work, struct dmarw_chan, work);
	struct dma_async_tx_descriptor *tx;
	struct dmarw_desc *d;
	unsigned long flags;

	for (;;) {
		spin_lock_irqsave(&c->lock, flags);
		d = list_first_entry_or_null(&c->issued, struct dmarw_desc, node);
		if (d)
			list_del(&d->node);
		spin_unlock_irqrestore(&c->lock, flags);
		if (!d)
			break;

		/* a software engine: DMA addresses are physical (dma-direct) */
		memcpy(phys_to_virt(d->dst), phys_to_virt(d->src), d->len);

		tx = &d->tx;
		spin_lock_irqsave(&c->lock, flags);
		dma_cookie_complete(tx);
		spin_unlock_irqrestore(&c->lock, flags);

		if (tx->callback_result) {
			struct dmaengine_result res = {
				.result = DMA_TRANS_NOERROR,
				.residue = 0,
			};

			tx->callback_result(tx->callback_param, &res);
		} else if (tx->callback) {
			tx->callback(tx->callback_param);
		}
		kfree(d);
	}
}

static dma_cookie_t dmarw_tx_submit(struct dma_async_tx_descriptor *tx)
{
	struct dmarw_chan *c = to_dmarw_chan(tx->chan);
	struct dmarw_desc *d = container_of(tx, struct dmarw_desc, tx);
	unsigned long flags;
	dma_cookie_t cookie;

	spin_lock_irqsave(&c->lock, flags);
	cookie = dma_cookie_assign(tx);
	list_add_tail(&d->node, &c->submitted);
	spin_unlock_irqrestore(&c->lock, flags);
	return cookie;
}

static struct dma_async_tx_descriptor *
dmarw_prep_dma_memcpy(struct dma_chan *chan, dma_addr_t dst, dma_addr_t src,
		      size_t len, unsigned long flags)
{
	struct dmarw_desc *d;

	d = kzalloc(sizeof(*d), GFP_NOWAIT);
	if (!d)
		return NULL;
	dma_async_tx_descriptor_init(&d->tx, chan);
	d->tx.tx_submit = dmarw_tx_submit;
	d->tx.flags = flags;
	INIT_LIST_HEAD(&d->node);
	d->dst = dst;
	d->src = src;
	d->len = len;
	return &d->tx;
}

/* DMA_SLAVE is there for dma_request_chan() by name; no slave transfers */
static struct dma_async_tx_descriptor *
dmarw_prep_slave_sg(struct dma_chan *chan, struct scatterlist *sgl,
		    unsigned int sg_len, enum dma_transfer_direction dir,
		    unsigned long flags, void *context)
{
	return NULL;
}

static void dmarw_issue_pending(struct dma_chan *chan)
{
	struct dmarw_chan *c = to_dmarw_chan(chan);
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	list_splice_tail_init(&c->submitted, &c->issued);
	spin_unlock_irqrestore(&c->lock, flags);
	schedule_work(&c->work);
}

static enum dma_status dmarw_tx_status(struct dma_chan *chan,
				       dma_cookie_t cookie,
				       struct dma_tx_state *state)
{
	return dma_cookie_status(chan, cookie, state);
}

static int dmarw_terminate_all(struct dma_chan *chan)
{
	struct dmarw_chan *c = to_dmarw_chan(chan);
	unsigned long flags;
	LIST_HEAD(head);

	spin_lock_irqsave(&c->lock, flags);
	list_splice_tail_init(&c->submitted, &head);
	list_splice_tail_init(&c->issued, &head);
	spin_unlock_irqrestore(&c->lock, flags);
	dmarw_free_list(&head);
	return 0;
}

static void dmarw_synchronize(struct dma_chan *chan)
{
	flush_work(&to_dmarw_chan(chan)->work);
}

static int dmarw_alloc_chan_resources(struct dma_chan *chan)
{
	struct dmarw_chan *c = to_dmarw_chan(chan);
	struct dmarw_dev *dd = to_dmarw_dev(chan->device);

	if (READ_ONCE(dd->removed) && !READ_ONCE(alloc_after_remove)) {
		pr_info(DRV_NAME ": dma%dchan%d: device unbound, refusing allocation\n",
			chan->device->dev_id, chan->chan_id);
		/*
		 * Not -ENODEV: find_candidate() takes that for "module removed"
		 * and unlinks the device from dma_device_list, which the kref
		 * release unlinks again later (list corruption BUG).
		 */
		return -EBUSY;
	}
	if (READ_ONCE(fail_alloc)) {
		dev_info(chan->device->dev, "dma%dchan%d: failing allocation (fail_alloc)\n",
			 chan->device->dev_id, chan->chan_id);
		return -ENOMEM;
	}
	dmarw_cookie_init(chan);
	c->allocated = true;
	return 0;
}

static void dmarw_free_chan_resources(struct dma_chan *chan)
{
	struct dmarw_chan *c = to_dmarw_chan(chan);

	dmarw_terminate_all(chan);
	cancel_work_sync(&c->work);
	c->allocated = false;
}

static bool dmarw_filter(struct dma_chan *chan, void *param)
{
	return chan->chan_id == (unsigned long)param;
}

/* kref release of the dma_device: last reference gone */
static void dmarw_device_release(struct dma_device *dma)
{
	struct dmarw_dev *dd = to_dmarw_dev(dma);

	pr_info(DRV_NAME ": %s: dma device released\n", dev_name(dma->dev));
	mutex_lock(&dmarw_graveyard_lock);
	dd->released = true;
	list_add_tail(&dd->graveyard, &dmarw_graveyard);
	mutex_unlock(&dmarw_graveyard_lock);
}

static int dmarw_probe(struct platform_device *pdev)
{
	struct dmarw_dev *dd;
	struct dma_device *dma;
	int i, ret;

	dd = kzalloc(struct_size(dd, chans, nchan), GFP_KERNEL);
	if (!dd)
		return -ENOMEM;
	dd->pdev = pdev;
	dd->nchan = nchan;
	INIT_LIST_HEAD(&dd->graveyard);
	dma = &dd->dma;
	dma->dev = &pdev->dev;
	INIT_LIST_HEAD(&dma->channels);
	dma_cap_zero(dma->cap_mask);
	dma_cap_set(DMA_MEMCPY, dma->cap_mask);
	dma_cap_set(DMA_SLAVE, dma->cap_mask);
	if (private)
		dma_cap_set(DMA_PRIVATE, dma->cap_mask);
	dma->device_alloc_chan_resources = dmarw_alloc_chan_resources;
	dma->device_free_chan_resources = dmarw_free_chan_resources;
	dma->device_prep_dma_memcpy = dmarw_prep_dma_memcpy;
	dma->device_prep_slave_sg = dmarw_prep_slave_sg;
	dma->device_issue_pending = dmarw_issue_pending;
	dma->device_tx_status = dmarw_tx_status;
	dma->device_terminate_all = dmarw_terminate_all;
	dma->device_synchronize = dmarw_synchronize;
	dma->src_addr_widths = BIT(DMA_SLAVE_BUSWIDTH_4_BYTES);
	dma->dst_addr_widths = BIT(DMA_SLAVE_BUSWIDTH_4_BYTES);
	dma->directions = BIT(DMA_MEM_TO_MEM);
	dma->residue_granularity = DMA_RESIDUE_GRANULARITY_DESCRIPTOR;
	if (!no_release)
		dma->device_release = dmarw_device_release;
	if (pdev->id == 0) {
		dma->filter.map = dmarw_slave_map;
		dma->filter.mapcnt = ARRAY_SIZE(dmarw_slave_map);
		dma->filter.fn = dmarw_filter;
	}

	for (i = 0; i < nchan; i++) {
		struct dmarw_chan *c = &dd->chans[i];

		spin_lock_init(&c->lock);
		INIT_LIST_HEAD(&c->submitted);
		INIT_LIST_HEAD(&c->issued);
		INIT_WORK(&c->work, dmarw_work);
		c->chan.device = dma;
		dmarw_cookie_init(&c->chan);
		list_add_tail(&c->chan.device_node, &dma->channels);
	}

	ret = dma_async_device_register(dma);
	if (ret) {
		dev_err(&pdev->dev, "dma_async_device_register: %d\n", ret);
		kfree(dd);
		return ret;
	}
	platform_set_drvdata(pdev, dd);
	dev_info(&pdev->dev, "dma%d: %d channels%s%s%s\n", dma->dev_id, nchan,
		 private ? ", private" : "",
		 no_release ? ", no device_release" : "",
		 fail_alloc ? ", fail_alloc" : "");
	return 0;
}

static void dmarw_do_remove(struct platform_device *pdev)
{
	struct dmarw_dev *dd = platform_get_drvdata(pdev);
	bool leak = !dd->dma.device_release;

	dev_info(&pdev->dev, "unregistering dma%d\n", dd->dma.dev_id);
	WRITE_ONCE(dd->removed, true);
	/* with device_release set, dd may be released in here: no access after */
	dma_async_device_unregister(&dd->dma);
	if (leak) {
		mutex_lock(&dmarw_graveyard_lock);
		list_add_tail(&dd->graveyard, &dmarw_graveyard);
		mutex_unlock(&dmarw_graveyard_lock);
	}
	platform_set_drvdata(pdev, NULL);
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
static void dmarw_remove(struct platform_device *pdev)
{
	dmarw_do_remove(pdev);
}
#else
static int dmarw_remove(struct platform_device *pdev)
{
	dmarw_do_remove(pdev);
	return 0;
}
#endif

static struct platform_driver dmarw_driver = {
	.probe = dmarw_probe,
	.remove = dmarw_remove,
	.driver = {
		.name = DRV_NAME,
	},
};

static void dmarw_unregister_devices(void)
{
	int i;

	for (i = DMARW_MAX_DEV - 1; i >= 0; i--) {
		if (dmarw_pdevs[i])
			platform_device_unregister(dmarw_pdevs[i]);
		dmarw_pdevs[i] = NULL;
	}
}

static int __init dmarw_init(void)
{
	int i, ret;

	if (ndev < 1 || ndev > DMARW_MAX_DEV || nchan < 1 || nchan > DMARW_MAX_CHAN)
		return -EINVAL;
	ret = platform_driver_register(&dmarw_driver);
	if (ret)
		return ret;
	for (i = 0; i < ndev; i++) {
		struct platform_device_info info = {
			.name = DRV_NAME,
			.id = i,
			.dma_mask = DMA_BIT_MASK(64),
		};
		struct platform_device *pdev = platform_device_register_full(&info);

		if (IS_ERR(pdev)) {
			ret = PTR_ERR(pdev);
			dmarw_unregister_devices();
			platform_driver_unregister(&dmarw_driver);
			return ret;
		}
		dmarw_pdevs[i] = pdev;
	}
	return 0;
}

static void __exit dmarw_exit(void)
{
	struct dmarw_dev *dd, *n;

	dmarw_unregister_devices();
	platform_driver_unregister(&dmarw_driver);
	/* nobody holds a channel now (each holder pins this module) */
	list_for_each_entry_safe(dd, n, &dmarw_graveyard, graveyard) {
		list_del(&dd->graveyard);
		if (!dd->released && kref_read(&dd->dma.ref)) {
			pr_warn(DRV_NAME ": dma device still referenced at unload, leaking it\n");
			continue;
		}
		kfree(dd);
	}
}

module_init(dmarw_init);
module_exit(dmarw_exit);
MODULE_DESCRIPTION("dmarefwatch test dmaengine provider");
MODULE_AUTHOR("dmarefwatch");
MODULE_LICENSE("GPL");
