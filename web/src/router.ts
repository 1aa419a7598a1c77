import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'overview' }
  | { page: 'function'; name: string }
  | { page: 'api'; id: string }
  | { page: 'deployments' }
  | { page: 'deployment'; id: string }
  | { page: 'alarms'; name?: string }
  | { page: 'stack'; name: string }
  | { page: 'missing'; hash: string };

/** The page a location hash names: `#/functions/NAME`, `#/apis/ID`, `#/deployments/ID`, `#/alarms/NAME`, `#/stacks/NAME`. */
export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [section, id] = parts;
  if (!section) return { page: 'overview' };
  if (section === 'functions' && id) return { page: 'function', name: id };
  if (section === 'apis' && id) return { page: 'api', id };
  if (section === 'deployments') return id ? { page: 'deployment', id } : { page: 'deployments' };
  if (section === 'alarms') return id ? { page: 'alarms', name: id } : { page: 'alarms' };
  if (section === 'stacks' && id) return { page: 'stack', name: id };
  return { page: 'missing', hash };
}

export const href = {
  overview: () => '#/',
  fn: (name: string) => `#/functions/${encodeURIComponent(name)}`,
  api: (id: string) => `#/apis/${encodeURIComponent(id)}`,
  deployments: () => '#/deployments',
  deployment: (id: string) => `#/deployments/${encodeURIComponent(id)}`,
  alarms: (name?: string) => (name ? `#/alarms/${encodeURIComponent(name)}` : '#/alarms'),
  stack: (name: string) => `#/stacks/${encodeURIComponent(name)}`,
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return route;
}
