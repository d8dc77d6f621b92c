import t from 'tap';
import { compileEventTypeSelector } from '../../plugins/eventTypes.js';

t.test('eventTypes - exact names, prefix wildcards and the catch-all', async (t) => {
  const select = compileEventTypeSelector(['connection.*', 'read.completed']);
  t.ok(select('connection.created'));
  t.ok(select('connection.sync.failed'), 'a prefix wildcard spans further segments');
  t.ok(select('read.completed'));
  t.notOk(select('connection'), 'the prefix alone is not a match');
  t.notOk(select('connections.created'));
  t.notOk(select('read.completed.late'));
  t.ok(compileEventTypeSelector(['*'])('anything.at.all'));
  t.notOk(compileEventTypeSelector([])('company.created'), 'an empty list selects nothing');
});
