/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * systemd's readiness protocol without libsystemd: one datagram to
 * $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace), as
 * sd_notify(3) describes.  The unit is Type=notify: systemd orders the
 * units after it (the drivers' modules) once the hooks are attached.
 */
#ifndef __DMARW_SD_NOTIFY_H
#define __DMARW_SD_NOTIFY_H

/*
 * Send @state ("READY=1", "STOPPING=1", "STATUS=...") when NOTIFY_SOCKET
 * is set: 1 sent, 0 not asked for, -errno on failure.
 */
int sd_notify_send(const char *state);

#endif /* __DMARW_SD_NOTIFY_H */
