/* SPDX-License-Identifier: MIT */
#ifndef SHYPER_DAEMON_H
#define SHYPER_DAEMON_H

/* `shyper system daemon [CONFIG.json]` on the open /dev/shyper: never returns unless it fails (1). */
int daemon_run(int dev, const char *config);

#endif
