import type { TestServer } from './test-server';

const PULL_WAIT_MS = 5_000;

/** A valid `POST /work` body; override any field. */
export function workBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { priority: 'normal', domain: 'billing', payload: { invoice: 42 }, deadlineMs: 60_000, ...overrides };
}

export interface PulledItemBody {
  id: string;
  priority: string;
  domain: string;
  payload: unknown;
  deadline: number;
  attempts: number;
  headers: Record<string, string>;
  lease: string;
  leaseExpiresAt: number;
}

/** Publishes one item and pulls it; returns the pulled item with its lease. */
export async function publishAndPull(server: TestServer, overrides: Record<string, unknown> = {}, auth: Record<string, string> = {}): Promise<PulledItemBody> {
  const body = workBody(overrides);
  const published = await server.http().post('/work').set(auth).send(body).expect(201);
  // A wait: on RabbitMQ an item reaches the server by a broker push, a moment after the publish.
  const pulled = await server.http().post('/work/pull').set(auth).send({ domain: body.domain, max: 1, waitMs: PULL_WAIT_MS }).expect(200);
  const item = (pulled.body as PulledItemBody[])[0];
  if (item?.id !== published.body.id) throw new Error(`expected to pull ${published.body.id}, got ${JSON.stringify(pulled.body)}`);
  return item;
}
