/**
 * The holdout (control) group and what comparing it with the program can and cannot say. Pure.
 *
 * A customer's place is a fixed hash of the shop id and their own id into 10,000 buckets; the
 * first `percent x 100` buckets are the control group. The same customer is always in the same
 * bucket, so raising the share only adds customers to the group (and lowering it only lets some
 * out); nothing is stored, so no write can forget it.
 */

export const HOLDOUT_BUCKETS = 10_000;

/** FNV-1a over the UTF-8 bytes of "shop:customer", then murmur3's finaliser so nearby ids spread. */
export function holdoutBucket(shopId: string, customerId: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(`${shopId}:${customerId}`)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % HOLDOUT_BUCKETS;
}

/** Whether the customer is in the control group of a program holding out `percent` (0..20). */
export function inHoldout(percent: number, shopId: string, customerId: string): boolean {
  if (!(percent > 0)) return false;
  return holdoutBucket(shopId, customerId) < Math.round(percent * 100);
}

/** Below this many buyers in a group, the comparison says nothing whatever the numbers. */
export const MIN_GROUP_BUYERS = 30;
/** |z| at or above this is significant at the 95% level (two-sided). */
export const Z_95 = 1.96;

export interface GroupSample {
  /** Members of the group who ordered in the period. */
  buyers: number;
  /** Of those, members with two or more orders by the period's end. */
  repeatBuyers: number;
}

export interface Significance {
  test: "two-proportion z-test on the repeat purchase rate, 95%";
  z: number | null;
  significant: boolean;
  /** A plain sentence when the groups cannot support a conclusion; null when they can. */
  warning: string | null;
}

/**
 * Whether the program's repeat purchase rate differs from the control group's beyond chance: a
 * two-proportion z-test (pooled), significant when |z| >= 1.96. Groups with fewer than 30 buyers
 * get a warning whatever z says (the test's normal approximation needs samples of that size).
 */
export function compareGroups(program: GroupSample, holdout: GroupSample): Significance {
  const test = "two-proportion z-test on the repeat purchase rate, 95%" as const;
  const n1 = program.buyers;
  const n2 = holdout.buyers;
  let z: number | null = null;
  if (n1 > 0 && n2 > 0) {
    const pooled = (program.repeatBuyers + holdout.repeatBuyers) / (n1 + n2);
    const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
    const diff = program.repeatBuyers / n1 - holdout.repeatBuyers / n2;
    z = se > 0 ? Math.round((diff / se) * 100) / 100 : null;
  }
  const significant = z !== null && Math.abs(z) >= Z_95;
  let warning: string | null = null;
  if (n1 < MIN_GROUP_BUYERS || n2 < MIN_GROUP_BUYERS) {
    warning = `Too few customers to conclude anything yet: each group needs at least ${MIN_GROUP_BUYERS} buyers in the period (program ${n1}, holdout ${n2}).`;
  } else if (!significant) {
    warning = "The difference between the groups could be chance: it is not significant at the 95% level.";
  }
  return { test, z, significant, warning };
}
