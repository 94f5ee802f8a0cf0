/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel shim for the shared ABI header: QEMU's standard-headers expect this
 * file to provide the fixed-width types, which <linux/types.h> does in the
 * kernel (uint32_t, uint64_t, ...).
 */
#include <linux/types.h>
