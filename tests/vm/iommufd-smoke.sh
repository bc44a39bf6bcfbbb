#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest script of vm-iommufd-smoke (linux7 kernel; runs as root under /init, busybox sh):
# iommufd-smoke on the iommufd selftest mock and on the first edu device through its VFIO cdev.
set -e
echo "kernel $(uname -r)"
[ -c /dev/iommu ] || { echo "FAIL: no /dev/iommu (kernel without CONFIG_IOMMUFD?)"; exit 1; }
[ -n "$NEST_EDU" ] || { echo "FAIL: no edu device bound to vfio-pci"; exit 1; }
ls -l /dev/iommu /dev/vfio/devices/
iommufd-smoke "${NEST_EDU%% *}"
