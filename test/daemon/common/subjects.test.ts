import t from 'tap';
import { eventTypeFromSubject, subjectForEventType } from '../../../daemon/common/subjects.js';

t.test('nats subjects - the event type is the subject without the configured prefix', async (t) => {
  t.equal(eventTypeFromSubject('events.connection.created', ['events.>']), 'connection.created');
  t.equal(eventTypeFromSubject('acme.hooks.read.completed', ['other.>', 'acme.hooks.>']), 'read.completed');
  t.equal(eventTypeFromSubject('events.company.created', ['events.*.created']), 'company.created');
  t.equal(eventTypeFromSubject('unrelated', ['events.>']), 'unrelated');
});

t.test('nats subjects - events are published under the first subject prefix', async (t) => {
  t.equal(subjectForEventType('connection.created', ['events.>']), 'events.connection.created');
  t.equal(
    subjectForEventType('connection.created', ['all-events']),
    'all-events',
    'a subject without wildcard is used as it is',
  );
});
