import { href } from '../router.js';
import type { Message } from '../types.js';
import { Time } from './format.js';
import { Status } from './ui.js';
import { ListTable } from './list-table.js';

/** Messages as rows: each links to its page; `hide` leaves out a column every row shares. */
export function MessageTable({ messages, hide = [] }: { messages: Message[]; hide?: ('consumer' | 'type')[] }) {
  if (messages.length === 0) return <p class="muted">No messages.</p>;
  return (
    <ListTable
      columns={[
        { label: 'Message' },
        { label: 'Status' },
        !hide.includes('consumer') && { label: 'Consumer' },
        !hide.includes('type') && { label: 'Event type' },
        { label: 'Created' },
        { label: 'Attempts', num: true },
        { label: 'Last answer' },
      ]}
    >
      {messages.map((message) => (
        <tr key={message.id}>
          <td data-label="Message">
            <a href={href(`/messages/${encodeURIComponent(message.id)}`)}>{message.id}</a>
          </td>
          <td data-label="Status">
            <Status status={message.status} />
          </td>
          {!hide.includes('consumer') && (
            <td data-label="Consumer">
              <a href={href(`/consumers/${encodeURIComponent(message.consumerId)}`)}>{message.consumerId}</a>
            </td>
          )}
          {!hide.includes('type') && <td data-label="Event type">{message.eventType}</td>}
          <td data-label="Created">
            <Time iso={message.createdAt} />
          </td>
          <td class="num" data-label="Attempts">
            {message.attempts}
          </td>
          <td data-label="Last answer">
            {message.lastStatusCode !== undefined && (
              <span class={message.lastStatusCode >= 300 ? 'error-text' : undefined}>{message.lastStatusCode} </span>
            )}
            {message.lastError && <span class="error-text">{message.lastError}</span>}
            {message.nextAttemptAt && (
              <div class="sub">
                next <Time iso={message.nextAttemptAt} />
              </div>
            )}
          </td>
        </tr>
      ))}
    </ListTable>
  );
}
