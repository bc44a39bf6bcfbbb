/* SPDX-License-Identifier: MIT */
/*
 * errnames.c - symbolic names for logs, nestctl output and test messages.
 */
#include <errno.h>
#include <stddef.h>

#include "nest-msg.h"

struct errname {
	int err;
	const char *name;
};

/* The wire vocabulary (docs/PROTOCOL.md §Errors) plus what the transport can report locally. */
static const struct errname errnames[] = {
	{EPERM, "EPERM"},	    {ENOENT, "ENOENT"},
	{EINTR, "EINTR"},	    {EIO, "EIO"},
	{E2BIG, "E2BIG"},	    {EBADF, "EBADF"},
	{EAGAIN, "EAGAIN"},	    {ENOMEM, "ENOMEM"},
	{EACCES, "EACCES"},	    {EFAULT, "EFAULT"},
	{EBUSY, "EBUSY"},	    {EEXIST, "EEXIST"},
	{ENODEV, "ENODEV"},	    {EINVAL, "EINVAL"},
	{EMFILE, "EMFILE"},	    {ENOTTY, "ENOTTY"},
	{EFBIG, "EFBIG"},	    {ENOSPC, "ENOSPC"},
	{EPIPE, "EPIPE"},	    {ERANGE, "ERANGE"},
	{ENOSYS, "ENOSYS"},	    {EPROTO, "EPROTO"},
	{EOVERFLOW, "EOVERFLOW"},   {EMSGSIZE, "EMSGSIZE"},
	{EOPNOTSUPP, "EOPNOTSUPP"}, {ECONNRESET, "ECONNRESET"},
	{ENOBUFS, "ENOBUFS"},	    {ESHUTDOWN, "ESHUTDOWN"},
	{ETIMEDOUT, "ETIMEDOUT"},   {ECONNREFUSED, "ECONNREFUSED"},
	{ENOTCONN, "ENOTCONN"},	    {ECANCELED, "ECANCELED"},
	{ENXIO, "ENXIO"},
};

const char *nest_errno_name(int err)
{
	if (err < 0)
		err = -err; /* accept both conventions: a wire errno or a -errno return */
	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].err == err)
			return errnames[i].name;
	return "E?";
}

const char *nest_op_name(uint32_t op)
{
	const struct nest_op_desc *d = nest_op_desc(op);

	return d ? d->name : "UNKNOWN";
}

static const char *const fault_names[NEST_FAULT_MAX] = {
	[NEST_FAULT_NONE] = "none",
	[NEST_FAULT_PASID_NOT_PRESENT] = "pasid-not-present",
	[NEST_FAULT_PASID_RANGE] = "pasid-range",
	[NEST_FAULT_PTE_NOT_PRESENT] = "pte-not-present",
	[NEST_FAULT_RESERVED_BIT] = "reserved-bit",
	[NEST_FAULT_READ] = "read",
	[NEST_FAULT_WRITE] = "write",
	[NEST_FAULT_EXEC] = "exec",
	[NEST_FAULT_USER] = "user",
	[NEST_FAULT_SUPERVISOR] = "supervisor",
	[NEST_FAULT_NON_CANONICAL] = "non-canonical",
	[NEST_FAULT_S2_MISS] = "s2-miss",
	[NEST_FAULT_S2_PERM] = "s2-perm",
};

const char *nest_fault_reason_name(uint32_t reason)
{
	return reason < NEST_FAULT_MAX ? fault_names[reason] : "unknown";
}
