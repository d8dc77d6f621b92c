/**
 * Where things are in a config file: the line and column of a value of the validated data,
 * found through the `yaml` package's node ranges, and how a problem there is written.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';

export type Segment = string | number;

export interface Problem {
  line: number;
  column: number;
  path: string;
  message: string;
}

/** Finds where a value of the validated data was written in the YAML. */
export class Locator {
  constructor(
    private readonly doc: Document,
    private readonly data: unknown,
    private readonly at: (offset: number | undefined) => { line: number; column: number },
  ) {}

  /** Segments of an ajv `instancePath`, indexes as numbers where the data holds an array. */
  segments(instancePath: string): Segment[] {
    if (instancePath === '') return [];
    const segments: Segment[] = [];
    let value = this.data;
    for (const raw of instancePath.slice(1).split('/')) {
      const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (Array.isArray(value)) {
        segments.push(Number(segment));
        value = value[Number(segment)];
      } else {
        segments.push(segment);
        value = isRecord(value) ? value[segment] : undefined;
      }
    }
    return segments;
  }

  /**
   * Line and column of the node at `segments` (of its key when `atKey`), or of the nearest
   * ancestor written in the file when the value came from a default.
   */
  position(segments: Segment[], atKey = false): { line: number; column: number } {
    let node: unknown = this.doc.contents;
    let offset = isNodeWithRange(node) ? node.range[0] : undefined;
    for (const [index, segment] of segments.entries()) {
      if (isAlias(node)) node = node.resolve(this.doc);
      let next: unknown;
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => String(isScalar(item.key) ? item.key.value : item.key) === String(segment),
        );
        if (pair && atKey && index === segments.length - 1) next = pair.key;
        else next = pair?.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        next = node.items[segment];
      }
      if (!isNodeWithRange(next)) break;
      node = next;
      offset = next.range[0];
    }
    return this.at(offset);
  }
}

function isNodeWithRange(node: unknown): node is Node & { range: [number, number, number] } {
  return (isMap(node) || isSeq(node) || isScalar(node) || isAlias(node)) && Array.isArray(node.range);
}

export function problemAt(locator: Locator, segments: Segment[], message: string): Problem {
  return { ...locator.position(segments), path: formatPath(segments), message };
}

/** `consumers[2].retrySchedule[0]`, `consumers[0].headers["X-Api-Key"]`. */
export function formatPath(segments: Segment[]): string {
  return segments
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) return index === 0 ? segment : `.${segment}`;
      return `[${JSON.stringify(segment)}]`;
    })
    .join('');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
