/* SPDX-License-Identifier: MIT */
#ifndef VH_VERSION_H
#define VH_VERSION_H
#define VH_VERSION "0.1.0"
#endif
