/* SPDX-License-Identifier: MIT */
/*
 * audit-rate.c - keeps one VM from flooding the journal with audit records (see log.h).
 *
 * Every record is counted against a token bucket of its (VM, uid): AuditBurst= records at once,
 * refilled at AuditRate= per second. A record that finds the bucket empty starts folding: one
 * record says so, and from then on that key's records are only counted, by op and result, and
 * written as one summary record every AuditSummarySec= with the exact counts. At the end of a
 * period whose count stayed within the sustained rate folding stops (one record says so) and the
 * bucket is full again. Nothing is lost: every privileged change is in a record or a summary's
 * count. nestd's shutdown writes every pending summary (audit_rate_flush()).
 *
 * Part of the logger (STYLE.md R17: the logger is the daemon's only other mutable state): a
 * fixed table of keys; an idle key (bucket full, not folding) is reused, and when every slot is
 * busy the record shares the overflow key "*" (rate-limited like any other). Every audited
 * request looks its key up: a hash of (VM, uid) chains the keys, so that costs the same for the
 * 1,024th VM as for the first (a scan of the table cost ~36,000 instructions per record there).
 * Only a new key of a full table scans it for an idle one, and a scan that finds none is not
 * repeated before the soonest time a key can be idle.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log-internal.h"
#include "log.h"

#define AR_KEYS	      1024
#define AR_BUCKETS    2048	   /* a power of two: chains of one or two keys */
#define AR_OPS	      24	   /* distinct (op, result) pairs counted per key and period */
#define AR_VM_MAX     AUDIT_VM_MAX /* the escaped name audit.c passes: a shorter key never matches */
#define AR_RESULT_MAX 24

struct ar_count {
	const char *op; /* one of the static op names of struct audit_rec */
	char result[AR_RESULT_MAX];
	uint64_t n;
};

struct ar_key {
	bool used;
	bool folding;
	char vm[AR_VM_MAX]; /* escaped */
	uid_t uid;
	uint64_t tokens_milli; /* tokens x 1000 */
	uint64_t last_usec;    /* last refill */
	uint64_t period_start; /* folding: start of the current summary period */
	uint64_t period_n;     /* folding: records counted in the current period */
	uint64_t other_n;      /* folding: records whose (op, result) found no free slot */
	struct ar_count cnt[AR_OPS];
	uint32_t n_cnt;
	uint32_t hash; /* ar_hash() of (vm, uid) */
	uint32_t next; /* index + 1 of the next key of the same bucket, 0: none */
};

static struct {
	uint32_t rate;	/* records per second per key; 0: never fold */
	uint32_t burst; /* bucket size */
	uint32_t period_sec;
	struct ar_key keys[AR_KEYS]; /* keys[0, n_used) used: a key is reused, never freed */
	uint32_t n_used;
	uint32_t bucket[AR_BUCKETS]; /* index + 1 of the first key of each hash bucket, 0: none */
	struct ar_key overflow;
	uint64_t folded_total; /* records folded since start (for tests and stats) */
	uint32_t n_folding;    /* keys folding now */
	uint64_t probes;       /* keys compared by ar_lookup() since start (for tests) */
	uint64_t scan_after;   /* a full table has no idle key before then: skip the scan */
	uint32_t scan_pos;     /* where the next scan for an idle key starts (a clock hand) */
	void (*on_fold)(void *arg);
	void *on_fold_arg;
} ar = {.period_sec = 10};

static uint64_t ar_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void audit_rate_set(uint32_t rate, uint32_t burst, uint32_t summary_sec)
{
	ar.rate = rate;
	ar.burst = burst ? burst : 1;
	ar.period_sec = summary_sec ? summary_sec : 1;
	ar.scan_after = 0; /* the bound was computed with the old rate and burst */
}

uint64_t audit_rate_folded(void)
{
	return ar.folded_total;
}

uint64_t audit_rate_probes(void)
{
	return ar.probes;
}

bool audit_rate_folding(void)
{
	return ar.n_folding > 0;
}

void audit_rate_on_fold(void (*fn)(void *arg), void *arg)
{
	ar.on_fold = fn;
	ar.on_fold_arg = arg;
}

void audit_rate_on_fold_release(void *arg)
{
	if (ar.on_fold_arg == arg)
		audit_rate_on_fold(NULL, NULL);
}

static void ar_refill(struct ar_key *k, uint64_t now)
{
	uint64_t cap = (uint64_t)ar.burst * 1000u, add;

	if (now <= k->last_usec)
		return;
	/* rate records per second = rate tokens_milli per millisecond */
	add = (now - k->last_usec) / 1000u * ar.rate;
	if (add == 0)
		return;
	k->tokens_milli = k->tokens_milli + add > cap ? cap : k->tokens_milli + add;
	k->last_usec = now;
}

static void ar_key_init(struct ar_key *k, const char *vm, uid_t uid, uint64_t now)
{
	memset(k, 0, sizeof(*k));
	k->used = true;
	snprintf(k->vm, sizeof(k->vm), "%s", vm);
	k->uid = uid;
	k->tokens_milli = (uint64_t)ar.burst * 1000u;
	k->last_usec = now;
}

/* A key is idle when it could be forgotten without losing anything: full bucket, not folding. */
static bool ar_key_idle(struct ar_key *k, uint64_t now)
{
	if (!k->used)
		return true;
	if (k->folding)
		return false;
	ar_refill(k, now);
	return k->tokens_milli >= (uint64_t)ar.burst * 1000u;
}

/*
 * The earliest time @k (not idle) can be idle: a folding key stops folding at a period's end at
 * the soonest (and then has a full bucket), a key that is not folding when its bucket has
 * refilled (whole milliseconds, as ar_refill() adds). Records only push it later.
 */
static uint64_t ar_key_idle_at(const struct ar_key *k)
{
	uint64_t need;

	if (k->folding)
		return k->period_start + (uint64_t)ar.period_sec * 1000000u;
	need = (uint64_t)ar.burst * 1000u - k->tokens_milli;
	return k->last_usec + (need + ar.rate - 1) / ar.rate * 1000u;
}

/*
 * An idle key of the full table to take over, or NULL. A scan goes on from where the last one
 * stopped, so new keys that find idle ones cost a step or two each, not a scan from the start. A
 * scan that finds none notes when the first key can be idle at the soonest, and until then
 * records of new keys go to "*" without a scan: a table full of busy keys costs no more per
 * record than a hash lookup.
 */
static void ar_period(struct ar_key *k, uint64_t now);

static struct ar_key *ar_idle_key(uint64_t now)
{
	uint64_t soonest = UINT64_MAX;

	if (now < ar.scan_after)
		return NULL;
	for (size_t n = 0; n < AR_KEYS; n++) {
		struct ar_key *k = &ar.keys[ar.scan_pos];

		ar.scan_pos = (ar.scan_pos + 1) % AR_KEYS;
		ar.probes++;
		ar_period(k, now); /* an overdue period ends now: its key may stop folding */
		if (ar_key_idle(k, now))
			return k;
		if (ar_key_idle_at(k) < soonest)
			soonest = ar_key_idle_at(k);
	}
	ar.scan_after = soonest;
	return NULL;
}

/*
 * FNV-1a of @vm and @uid from a basis seeded at random once per process: VM names come from
 * clients (a refused attach is audited with the name asked for), and an unseeded hash would let
 * one pick names that share a chain and bring the table scan back.
 */
static uint32_t ar_hash(const char *vm, uid_t uid)
{
	static uint32_t seed;
	static bool seeded;
	uint32_t h;

	if (!seeded) {
		if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
			seed = (uint32_t)getpid() ^ (uint32_t)time(NULL);
		seeded = true;
	}
	h = 2166136261u ^ seed;

	for (const unsigned char *p = (const unsigned char *)vm; *p; p++)
		h = (h ^ *p) * 16777619u;
	for (unsigned i = 0; i < sizeof(uid); i++)
		h = (h ^ (((uint32_t)uid >> (8 * i)) & 0xffu)) * 16777619u;
	return h;
}

/* Take @k out of its bucket's chain. */
static void ar_unlink(struct ar_key *k)
{
	uint32_t *pp = &ar.bucket[k->hash & (AR_BUCKETS - 1)];
	uint32_t idx = (uint32_t)(k - ar.keys) + 1;

	while (*pp && *pp != idx)
		pp = &ar.keys[*pp - 1].next;
	if (*pp)
		*pp = k->next;
}

static struct ar_key *ar_lookup(const char *vm, uid_t uid, uint64_t now)
{
	uint32_t h = ar_hash(vm, uid), *head = &ar.bucket[h & (AR_BUCKETS - 1)];
	struct ar_key *spare = NULL;

	for (uint32_t i = *head; i; i = ar.keys[i - 1].next) {
		struct ar_key *k = &ar.keys[i - 1];

		ar.probes++;
		if (k->hash == h && k->uid == uid && strcmp(k->vm, vm) == 0)
			return k;
	}
	if (ar.n_used < AR_KEYS)
		spare = &ar.keys[ar.n_used++];
	else if ((spare = ar_idle_key(now)))
		ar_unlink(spare);
	if (!spare) {
		if (!ar.overflow.used)
			ar_key_init(&ar.overflow, "*", (uid_t)-1, now);
		return &ar.overflow;
	}
	ar_key_init(spare, vm, uid, now);
	spare->hash = h;
	spare->next = *head;
	*head = (uint32_t)(spare - ar.keys) + 1;
	return spare;
}

static void ar_emit_note(const struct ar_key *k, const char *op, const char *detail)
{
	struct audit_rec r = {.vm = NULL, .uid = k->uid, .pid = 0, .pasid = -1, .op = op};

	audit_emit(&r, k->vm, "ok", detail);
}

/* Write the summary of @k's current period (if it counted anything) and reset the counters. */
static void ar_summary(struct ar_key *k, uint64_t now)
{
	char detail[1024];
	size_t len;
	int w;

	if (k->period_n == 0)
		return;
	w = snprintf(detail, sizeof(detail),
		     "folded %" PRIu64 " records in %" PRIu64 " ms:", k->period_n,
		     (now - k->period_start) / 1000u);
	len = w > 0 ? (size_t)w : 0;
	for (uint32_t i = 0; i < k->n_cnt && len < sizeof(detail); i++) {
		w = snprintf(detail + len, sizeof(detail) - len, "%s %" PRIu64 " %s/%s",
			     i ? "," : "", k->cnt[i].n, k->cnt[i].op, k->cnt[i].result);
		len += w > 0 ? (size_t)w : 0;
	}
	if (k->other_n && len < sizeof(detail))
		snprintf(detail + len, sizeof(detail) - len, ", %" PRIu64 " other", k->other_n);
	ar_emit_note(k, "audit-summary", detail);
	k->period_n = 0;
	k->other_n = 0;
	k->n_cnt = 0;
}

/* End the current period of a folding key if it is over: summary, then stop or go on. */
static void ar_period(struct ar_key *k, uint64_t now)
{
	uint64_t n;

	if (!k->folding || now - k->period_start < (uint64_t)ar.period_sec * 1000000u)
		return;
	n = k->period_n;
	ar_summary(k, now);
	k->period_start = now;
	if (n <= (uint64_t)ar.rate * ar.period_sec) {
		char detail[128];

		k->folding = false;
		ar.n_folding--;
		k->tokens_milli = (uint64_t)ar.burst * 1000u;
		k->last_usec = now;
		snprintf(detail, sizeof(detail),
			 "stopped folding: back within %u records/s, every record written again",
			 ar.rate);
		ar_emit_note(k, "audit-fold", detail);
	}
}

static void ar_count(struct ar_key *k, const struct audit_rec *r, const char *result)
{
	const char *op = r->op ? r->op : "?";

	k->period_n++;
	ar.folded_total++;
	for (uint32_t i = 0; i < k->n_cnt; i++)
		if (strcmp(k->cnt[i].op, op) == 0 && strcmp(k->cnt[i].result, result) == 0) {
			k->cnt[i].n++;
			return;
		}
	if (k->n_cnt == AR_OPS) {
		k->other_n++;
		return;
	}
	k->cnt[k->n_cnt].op = op;
	snprintf(k->cnt[k->n_cnt].result, sizeof(k->cnt[k->n_cnt].result), "%s", result);
	k->cnt[k->n_cnt].n = 1;
	k->n_cnt++;
}

bool audit_rate_admit(const struct audit_rec *r, const char *vm, const char *result)
{
	uint64_t now;
	struct ar_key *k;

	if (ar.rate == 0)
		return true;
	now = ar_now_usec();
	k = ar_lookup(vm, r->uid, now);
	ar_period(k, now);
	if (k->folding) {
		ar_count(k, r, result);
		if (ar.on_fold) /* again: a tick that could not be armed when folding started */
			ar.on_fold(ar.on_fold_arg);
		return false;
	}
	ar_refill(k, now);
	if (k->tokens_milli >= 1000u) {
		k->tokens_milli -= 1000u;
		return true;
	}
	{
		char detail[160];

		snprintf(detail, sizeof(detail),
			 "folding: more than %u records/s (burst %u); from now on a summary with "
			 "exact counts every %u s",
			 ar.rate, ar.burst, ar.period_sec);
		ar_emit_note(k, "audit-fold", detail);
	}
	k->folding = true;
	ar.n_folding++;
	k->period_start = now;
	ar_count(k, r, result);
	if (ar.on_fold)
		ar.on_fold(ar.on_fold_arg);
	return false;
}

void audit_rate_tick(void)
{
	uint64_t now = ar_now_usec();

	for (size_t i = 0; i < AR_KEYS; i++)
		if (ar.keys[i].used)
			ar_period(&ar.keys[i], now);
	if (ar.overflow.used)
		ar_period(&ar.overflow, now);
}

void audit_rate_flush(void)
{
	uint64_t now = ar_now_usec();

	for (size_t i = 0; i < AR_KEYS; i++)
		if (ar.keys[i].used && ar.keys[i].folding)
			ar_summary(&ar.keys[i], now);
	if (ar.overflow.used && ar.overflow.folding)
		ar_summary(&ar.overflow, now);
}
