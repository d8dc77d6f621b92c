import type { Logger } from 'pino';
import type { Store } from './store.js';

/**
 * Carries the control data hooksd 0.2 kept in LevelDB over to the control bucket, once: at the
 * first start with the bucket, before anything reads it. A key the bucket holds already (put
 * there by another instance, or by an earlier start that stopped half-way) keeps its value:
 * the bucket wins. Tasks are marked as this instance's, since its store holds their messages.
 * The LevelDB records stay as they were, with a mark that they were carried over.
 */
export async function carryOverLegacyControl(store: Store, instanceId: string, log: Logger): Promise<void> {
  if (await store.legacyControl.carriedOver()) return;
  const legacy = await store.legacyControl.read();
  const control = store.control;
  const counts = { consumers: 0, secretRecords: 0, states: 0, tasks: 0, keptFromBucket: 0 };
  const carry = async (written: boolean, kind: keyof typeof counts) => {
    counts[written ? kind : 'keptFromBucket'] += 1;
  };
  for (const [id, record] of legacy.secrets)
    await carry(await control.createIfAbsent('secrets', id, record), 'secretRecords');
  for (const [id, state] of legacy.states) await carry(await control.createIfAbsent('states', id, state), 'states');
  for (const task of legacy.tasks)
    await carry(await control.createIfAbsent('tasks', task.id, { ...task, instance: instanceId }), 'tasks');
  // Consumers last: an instance watching sees each one with its secrets already there.
  for (const entry of legacy.apiConsumers)
    await carry(await control.createIfAbsent('consumers', entry.id, entry), 'consumers');
  await store.legacyControl.markCarriedOver();
  if (Object.values(counts).some((n) => n > 0))
    log.info(
      { bucket: control.bucketName, ...counts },
      'carried the control data kept in LevelDB over to the control bucket, once',
    );
}
