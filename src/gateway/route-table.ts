import { own } from '../core/own.js';
import type { MethodDoc, ResourceDoc } from '../domain/rest-api.js';

type Segment = { kind: 0; text: string } | { kind: 1; name: string } | { kind: 2; name: string };

interface Route {
  resource: ResourceDoc;
  segments: Segment[];
}

export interface RouteMatch {
  resource: ResourceDoc;
  method: MethodDoc;
  pathParameters: Record<string, string>;
}

/**
 * The routes of one deployment snapshot, compiled once. A request path is matched against resource
 * paths the way API Gateway does: a literal part beats `{param}`, which beats greedy `{proxy+}`; the
 * method is looked up exactly, then as ANY.
 */
export class RouteTable {
  private readonly routes: Route[];

  constructor(resources: ResourceDoc[]) {
    this.routes = resources.map((resource) => ({
      resource,
      segments: resource.path
        .split('/')
        .filter(Boolean)
        .map((part): Segment => {
          if (part.startsWith('{') && part.endsWith('+}')) return { kind: 2, name: part.slice(1, -2) };
          if (part.startsWith('{')) return { kind: 1, name: part.slice(1, -1) };
          return { kind: 0, text: part };
        }),
    }));
  }

  match(httpMethod: string, path: string): RouteMatch | undefined {
    const parts = path.split('/').filter(Boolean);
    let best: { route: Route; rank: number[]; params: Record<string, string> } | undefined;
    for (const route of this.routes) {
      const params: Record<string, string> = {};
      const rank = matchSegments(route.segments, parts, params);
      if (!rank) continue;
      const method = own(route.resource.resourceMethods, httpMethod) ?? own(route.resource.resourceMethods, 'ANY');
      if (!method) continue;
      if (!best || compareRank(rank, best.rank) < 0) best = { route, rank, params };
    }
    if (!best) return undefined;
    const methods = best.route.resource.resourceMethods!;
    return { resource: best.route.resource, method: (own(methods, httpMethod) ?? methods.ANY)!, pathParameters: best.params };
  }
}

/** The kind of each segment used, or undefined when the path does not match. */
function matchSegments(segments: Segment[], parts: string[], params: Record<string, string>): number[] | undefined {
  const rank: number[] = [];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg.kind === 2) {
      if (i >= parts.length) return undefined;
      params[seg.name] = parts.slice(i).map(decode).join('/');
      rank.push(2);
      return rank;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (seg.kind === 0) {
      if (decode(part) !== seg.text) return undefined;
    } else params[seg.name] = decode(part);
    rank.push(seg.kind);
  }
  return parts.length === segments.length ? rank : undefined;
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return b.length - a.length;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
