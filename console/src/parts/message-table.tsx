import { href } from '../router.js';
import type { Message } from '../types.js';
import { Time } from './format.js';
import { Status } from './ui.js';

/** Messages as rows: each links to its page; `hide` leaves out a column every row shares. */
export function MessageTable({ messages, hide = [] }: { messages: Message[]; hide?: ('consumer' | 'type')[] }) {
  if (messages.length === 0) return <p class="muted">No messages.</p>;
  return (
    <div class="table-wrap">
      <table class="list">
        <thead>
          <tr>
            <th scope="col">Message</th>
            <th scope="col">Status</th>
            {!hide.includes('consumer') && <th scope="col">Consumer</th>}
            {!hide.includes('type') && <th scope="col">Event type</th>}
            <th scope="col">Created</th>
            <th scope="col" class="num">
              Attempts
            </th>
            <th scope="col">Last answer</th>
          </tr>
        </thead>
        <tbody>
          {messages.map((message) => (
            <tr key={message.id}>
              <td>
                <a href={href(`/messages/${encodeURIComponent(message.id)}`)}>{message.id}</a>
              </td>
              <td>
                <Status status={message.status} />
              </td>
              {!hide.includes('consumer') && (
                <td>
                  <a href={href(`/consumers/${encodeURIComponent(message.consumerId)}`)}>{message.consumerId}</a>
                </td>
              )}
              {!hide.includes('type') && <td>{message.eventType}</td>}
              <td>
                <Time iso={message.createdAt} />
              </td>
              <td class="num">{message.attempts}</td>
              <td class="error-text">
                {message.lastStatusCode ?? ''} {message.lastError ?? ''}
                {message.nextAttemptAt && (
                  <div class="sub">
                    next <Time iso={message.nextAttemptAt} />
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
