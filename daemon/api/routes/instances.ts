import { integer, list, shape, text, time } from '../answer-schemas.js';
import type { RouteTable } from '../route-table.js';

/** A live instance of the group, as the route that lists them is told it. */
export interface GroupMember {
  id: string;
  /** The tag its message ids carry. */
  tag: string;
  startedAt: number;
  lastSeen: number;
  /** Whether it reads the same YAML consumers as the instance answering; null when it has not said lately. */
  sameYaml: boolean | null;
}

const instanceSchema = shape('Instance', 'A live hooksd instance of the group (sharing the NATS stream).', {
  id: text('Its instance.id.'),
  tag: text('The five-character tag its message ids carry.'),
  self: { type: 'boolean', description: 'Whether it is the instance that answers.' },
  startedAt: time('When it started.'),
  lastSeen: time('When it last announced itself (it does every 2 s; gone after 6 s of silence).'),
  sameYaml: {
    type: ['boolean', 'null'],
    description:
      'Whether its config file has the same consumers as that of the instance answering; null when it has ' +
      'published no digest lately.',
  },
});

const instancesSchema = shape('Instances', 'The live instances of the group.', {
  self: text('The id of the instance that answers.'),
  count: integer('How many are alive.'),
  data: list(instanceSchema, 'Each live instance, by id.'),
});

/** `GET /v1/instances`: the group this instance belongs to. */
export function instanceRoutes(routes: RouteTable, self: string, members: () => GroupMember[]): void {
  routes.add(
    {
      method: 'get',
      path: '/v1/instances',
      tag: 'operations',
      summary: 'The live hooksd instances of the group: id, start, last announcement, whether their YAML agrees',
      scope: 'read',
      status: 200,
      response: instancesSchema,
    },
    () => {
      const data = members().map((member) => ({
        id: member.id,
        tag: member.tag,
        self: member.id === self,
        startedAt: new Date(member.startedAt).toISOString(),
        lastSeen: new Date(member.lastSeen).toISOString(),
        sameYaml: member.sameYaml,
      }));
      return { self, count: data.length, data };
    },
  );
}
