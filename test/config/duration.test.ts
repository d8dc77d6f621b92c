import t from 'tap';
import { parseDuration } from '../../config/duration.js';

t.test('parseDuration - reads every unit', async (t) => {
  t.equal(parseDuration('250ms'), 250);
  t.equal(parseDuration('5s'), 5000);
  t.throws(() => parseDuration('5 s'));
});
