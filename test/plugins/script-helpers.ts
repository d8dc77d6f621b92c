import { compileScript, type ScriptErrorKind, type ScriptWebhook } from '../../plugins/script.js';

/** A webhook as the script plugin hands it to a handler. */
export const webhook = (): ScriptWebhook => ({
  method: 'POST',
  url: 'https://receiver.test/hooks',
  headers: { authorization: 'Bearer abc' },
  payload: {
    id: 'evt_1',
    eventType: 'connection.created',
    generatedDate: '2024-05-14T11:02:09Z',
    payload: { connection: { id: 'conn_1', platformKey: 'gbol' } },
  },
  cancel: false,
});

/** The time limit of the tests that hit it; the others get a loose one, so a busy machine cannot fail them. */
export const LIMIT = 50;
export const LOOSE = 5000;
export const compile = (source: string, timeoutMs = LOOSE) => compileScript(source, { filename: './t.js', timeoutMs });
export const run = (source: string, input = webhook(), timeoutMs = LOOSE) => compile(source, timeoutMs).run(input);
/** A handler whose body ends by returning `webhook`, changed by `body`. */
export const handlerDoing = (body: string) => `function handler(webhook) {\n${body}\nreturn webhook;\n}`;

export const scriptError = (kind: ScriptErrorKind, message: RegExp) => ({ name: 'ScriptError', kind, message });
