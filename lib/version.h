/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VH_VERSION_H
#define VH_VERSION_H
#define VH_VERSION "0.1.0"
#endif
