import { LeaseExpiredError } from '../../errors';
import type { LeaseRef, TransportDelivery } from '../../interfaces/delivery.interface';
import { FAILOVER_LEASE_SEPARATOR } from './failover.constants';

/**
 * A failover lease is the delivering broker's name plus that broker's own lease
 * (`rabbitmq:<lease>`), so every settle goes back to the broker holding the delivery.
 */
export function wrapDelivery<T extends TransportDelivery>(broker: string, delivery: T): T {
  return { ...delivery, lease: `${broker}${FAILOVER_LEASE_SEPARATOR}${delivery.lease}` };
}

/**
 * Splits a failover lease into the broker name and the ref that broker issued.
 * @throws LeaseExpiredError for a lease no failover pull handed out (as every transport does for an unknown lease).
 */
export function unwrapLease(ref: LeaseRef): { broker: string; ref: LeaseRef } {
  const separator = typeof ref.lease === 'string' ? ref.lease.indexOf(FAILOVER_LEASE_SEPARATOR) : -1;
  if (separator <= 0) throw new LeaseExpiredError(ref.id, ref.domain);
  return { broker: ref.lease.slice(0, separator), ref: { ...ref, lease: ref.lease.slice(separator + 1) } };
}
