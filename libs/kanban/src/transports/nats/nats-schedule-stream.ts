import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import { DiscardPolicy, RetentionPolicy, StorageType } from './jetstream-client';
import { jsApiCode, JS_ERR } from './nats-errors';

/**
 * Creates a last-value stream (one message per subject: KV semantics without the KV client), or
 * brings `max_age` and `duplicate_window` of an existing one to the configured values.
 */
export async function ensureLastValueStream(
  jsm: JetStreamManager,
  config: Pick<StreamConfig, 'name' | 'subjects' | 'num_replicas'> & Partial<Pick<StreamConfig, 'max_age' | 'duplicate_window'>>,
): Promise<void> {
  const full: Partial<StreamConfig> & { name: string } = {
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: 1,
    ...config,
  };
  try {
    const info = await jsm.streams.info(config.name);
    const stale = (config.max_age !== undefined && info.config.max_age !== config.max_age) || (config.duplicate_window !== undefined && info.config.duplicate_window !== config.duplicate_window);
    if (stale) await jsm.streams.update(config.name, { ...info.config, ...full });
  } catch (error) {
    if (jsApiCode(error) !== JS_ERR.streamNotFound) throw error;
    try {
      await jsm.streams.add(full);
    } catch (addError) {
      // Another instance created it between our look and our add.
      if (jsApiCode(addError) !== JS_ERR.streamNameInUse) throw addError;
    }
  }
}
