import t from 'tap';
import {
  instanceTag,
  ownedId,
  ownerTagOf,
  setIdOwner,
  sortableId,
  sortableIdFloor,
} from '../../../daemon/store/ids.js';

t.test('ids - a message id carries its owner tag, and ids of several owners still sort by time', async (t) => {
  const made: { id: string; owner: string; at: number }[] = [];
  const start = Date.UTC(2025, 0, 1);
  for (let i = 0; i < 300; i++) {
    const owner = ['node-a', 'node-b', 'hooksd-2.example.internal'][i % 3];
    setIdOwner(owner);
    const at = start + Math.floor(i / 2) * 7;
    made.push({ id: ownedId('msg_', at), owner, at });
  }
  for (const { id, owner } of made) {
    t.match(id, /^msg_[0-9a-z]{28}$/, 'letters and digits only, as webhook-ids were');
    t.equal(ownerTagOf(id, 'msg_'), instanceTag(owner), `${id} names its owner`);
  }
  const byId = [...made].sort((a, b) => (a.id < b.id ? -1 : 1));
  t.same(
    byId.map((m) => m.at),
    made.map((m) => m.at),
    'sorting by id sorts by creation time across owners',
  );
  t.ok(made.every(({ id, at }) => id >= sortableIdFloor('msg_', at) && id < sortableIdFloor('msg_', at + 1)));
});

t.test('ids - an id made before owner tags, or of another kind, has no owner tag', async (t) => {
  t.equal(ownerTagOf(sortableId('msg_'), 'msg_'), null, 'an untagged message id is owned by whoever holds it');
  t.equal(ownerTagOf(ownedId('dlq_'), 'msg_'), null, 'the prefix must match');
  t.equal(ownerTagOf('msg_short', 'msg_'), null);
});

t.test('ids - tags are five base36 digits, the same for the same instance id, different for others', async (t) => {
  t.equal(instanceTag('node-a'), instanceTag('node-a'));
  t.match(instanceTag('a.very.long.host.name-with-dashes_and_underscores'), /^[0-9a-z]{5}$/);
  const tags = new Set(Array.from({ length: 1000 }, (_, i) => instanceTag(`hooksd-${i}`)));
  t.ok(tags.size >= 999, `${tags.size} distinct tags for 1,000 instance ids`);
});
