import { ApiError } from '../api.js';
import { useApi, useEvery } from '../parts/data.js';
import { count, ms, percent, rate, Time } from '../parts/format.js';
import { Loading, Problem } from '../parts/ui.js';
import { href } from '../router.js';
import type { Consumer, Instances, LastError, OpsEvent, Page, Readiness, Stats } from '../types.js';
import { ListTable } from '../parts/list-table.js';

type ConsumerStat = Stats['consumers'][number];

function State({ consumer }: { consumer: Consumer }) {
  if (consumer.disabled)
    return (
      <span class="state state-disabled">disabled{consumer.disabledReason ? `: ${consumer.disabledReason}` : ''}</span>
    );
  if (consumer.failingSince)
    return (
      <span class="state state-failing">
        failing since <Time iso={consumer.failingSince} />
      </span>
    );
  return <span class="state state-ok">enabled</span>;
}

export function LastErrorText({ error }: { error: LastError | null | undefined }) {
  if (!error) return <span class="muted">none</span>;
  return (
    <span class="last-error">
      <Time iso={error.at} short />{' '}
      <a href={href(`/messages/${encodeURIComponent(error.messageId)}`)}>
        {error.statusCode ?? error.errorClass ?? 'error'}
      </a>{' '}
      <span class="error-text">{error.error ?? ''}</span>
    </span>
  );
}

function Health({ readiness }: { readiness: Readiness | undefined }) {
  if (!readiness) return null;
  const item = (name: string, ok: boolean, why?: string) => (
    <li class={ok ? 'ok' : 'bad'}>
      {name}: {ok ? 'ok' : (why ?? 'failing')}
    </li>
  );
  return (
    <ul class="health" aria-label="Health">
      <li class={readiness.status === 'ready' ? 'ok' : 'bad'}>hooksd: {readiness.status}</li>
      {item('NATS', readiness.checks.nats, readiness.problems.nats)}
      {item('store', readiness.checks.store, readiness.problems.store)}
      {readiness.checks.draining && <li class="bad">draining: stopping</li>}
    </ul>
  );
}

function SameYaml({ same }: { same: boolean | null }) {
  if (same === null) return <span class="muted">not said lately</span>;
  return same ? <span class="state state-ok">same</span> : <span class="state state-failing">differs</span>;
}

const alive = (n: number) => (n === 1 ? '1 instance alive' : `${n} instances alive`);

/** The live instances of the group, as the answering instance sees them. */
function Group() {
  const group = useApi<Instances>('/v1/instances');
  useEvery(5_000, true, group.reload);
  return (
    <section aria-labelledby="instances-heading">
      <h2 id="instances-heading">Instances</h2>
      {group.error instanceof ApiError && group.error.status === 404 ? (
        <p class="muted">This hooksd does not list its group.</p>
      ) : (
        <Problem error={group.error} />
      )}
      {group.data === undefined && !group.error && <Loading what="the instances" />}
      {group.data && (
        <>
          <p class="muted">
            {alive(group.data.count)}; the console talks to {group.data.self}. Each delivers the events it takes and
            keeps them in its own store.
          </p>
          <ListTable
            columns={[{ label: 'Instance' }, { label: 'Started' }, { label: 'Last seen' }, { label: 'Config file' }]}
            variant="instances"
          >
            {group.data.data.map((instance) => (
              <tr key={instance.id}>
                <td data-label="Instance">
                  {instance.id}
                  {instance.self && <span class="muted"> (this one)</span>}
                  <div class="sub">id tag {instance.tag}</div>
                </td>
                <td data-label="Started">
                  <Time iso={instance.startedAt} />
                </td>
                <td data-label="Last seen">
                  <Time iso={instance.lastSeen} />
                </td>
                <td data-label="Config file">
                  <SameYaml same={instance.sameYaml} />
                </td>
              </tr>
            ))}
          </ListTable>
        </>
      )}
    </section>
  );
}

export function OverviewPage() {
  const consumers = useApi<Page<Consumer>>('/v1/consumers?limit=250');
  const stats = useApi<Stats>('/v1/stats?window=1h');
  const ops = useApi<{ data: OpsEvent[] }>('/v1/ops-events?limit=20');
  const readiness = useReadiness();
  useEvery(15_000, true, () => {
    consumers.reload();
    stats.reload();
    ops.reload();
    readiness.reload();
  });
  const statOf = new Map<string, ConsumerStat>((stats.data?.consumers ?? []).map((s) => [s.consumerId, s]));
  const statsMissing = stats.error instanceof ApiError && stats.error.status === 404;
  return (
    <>
      <h1>Overview</h1>
      <Health readiness={readiness.data} />
      <Problem error={readiness.error} />
      <section aria-labelledby="consumers-heading">
        <h2 id="consumers-heading">Consumers</h2>
        <p class="muted">Over the last hour{statsMissing ? ' (this hooksd has no statistics route)' : ''}.</p>
        <Problem error={consumers.error} />
        {!statsMissing && <Problem error={stats.error} />}
        {consumers.data === undefined && !consumers.error && <Loading what="consumers" />}
        {consumers.data && (
          <>
            <ListTable
              columns={[
                { label: 'Consumer' },
                { label: 'State' },
                { label: 'Source' },
                { label: 'Per minute', num: true },
                { label: 'Success', num: true },
                { label: 'p50 / p95', num: true },
                { label: 'Last error' },
                { label: 'Pending', num: true },
              ]}
            >
              {consumers.data.data.map((consumer) => {
                const stat = statOf.get(consumer.id);
                return (
                  <tr key={consumer.id}>
                    <td data-label="Consumer">
                      <a href={href(`/consumers/${encodeURIComponent(consumer.id)}`)}>{consumer.id}</a>
                      <div class="sub">{consumer.url}</div>
                    </td>
                    <td data-label="State">
                      <State consumer={consumer} />
                    </td>
                    <td data-label="Source">{consumer.source}</td>
                    <td class="num" data-label="Per minute">
                      {rate(stat?.perMinute)}
                    </td>
                    <td class="num" data-label="Success">
                      {percent(stat?.successRatio)}
                    </td>
                    <td class="num" data-label="p50 / p95">
                      {ms(stat?.p50Ms)} / {ms(stat?.p95Ms)}
                    </td>
                    <td data-label="Last error">
                      <LastErrorText error={stat?.lastError} />
                    </td>
                    <td class="num" data-label="Pending">
                      {count(stat?.pending)}
                    </td>
                  </tr>
                );
              })}
            </ListTable>
            {consumers.data.data.length === 0 && <p class="muted">No consumers yet.</p>}
            {consumers.data.nextCursor !== null && <p class="muted">Showing the first 250 consumers, by id.</p>}
          </>
        )}
      </section>
      <Group />
      <section aria-labelledby="ops-heading">
        <h2 id="ops-heading">Recent operations events</h2>
        {ops.error instanceof ApiError && ops.error.status === 404 ? (
          <p class="muted">This hooksd does not list operations events.</p>
        ) : (
          <Problem error={ops.error} />
        )}
        {ops.data && ops.data.data.length === 0 && <p class="muted">None since hooksd started.</p>}
        {ops.data && ops.data.data.length > 0 && (
          <ul class="ops">
            {ops.data.data.map((event, i) => (
              <li key={`${event.at}-${i}`}>
                <Time iso={event.at} /> <strong>{event.type}</strong>{' '}
                <code class="inline">{JSON.stringify(event.payload)}</code>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

/** `/readyz` answers 503 with its checks when not ready: both are shown. */
function useReadiness() {
  const loaded = useApi<Readiness>('/readyz');
  if (loaded.error instanceof ApiError && loaded.error.status === 503) {
    return { ...loaded, data: loaded.error.body as Readiness, error: undefined };
  }
  return loaded;
}
