import { render } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { startLive, useConnected } from './live';
import { AlarmsPage } from './pages/alarms';
import { ApiPage } from './pages/api';
import { DeploymentPage, DeploymentsPage } from './pages/deployments';
import { FunctionPage } from './pages/function';
import { Overview } from './pages/overview';
import { SignIn } from './pages/sign-in';
import { StackPage } from './pages/stack';
import { accessKey, credentialsRequired, signIn } from './api/aws';
import { href, useRoute, type Route } from './router';
import './styles.css';

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <Overview />;
    case 'function':
      return <FunctionPage name={route.name} />;
    case 'api':
      return <ApiPage id={route.id} />;
    case 'deployments':
      return <DeploymentsPage />;
    case 'deployment':
      return <DeploymentPage id={route.id} />;
    case 'alarms':
      return <AlarmsPage selected={route.name} />;
    case 'stack':
      return <StackPage name={route.name} />;
    case 'missing':
      return (
        <p>
          Nothing at <code>{route.hash}</code>. Go to the <a href={href.overview()}>overview</a>.
        </p>
      );
  }
}

const TITLES: Record<Route['page'], string> = {
  overview: 'Overview',
  function: 'Function',
  api: 'API',
  deployments: 'Deployments',
  deployment: 'Deployment',
  alarms: 'Alarms',
  stack: 'Stack',
  missing: 'Not found',
};

function App({ signedIn }: { signedIn: boolean }) {
  const route = useRoute();
  const up = useConnected();
  const main = useRef<HTMLElement>(null);
  const section =
    route.page === 'deployment'
      ? 'deployments'
      : route.page === 'function' || route.page === 'api' || route.page === 'stack'
        ? 'overview'
        : route.page;
  const detail =
    route.page === 'function' || route.page === 'stack'
      ? route.name
      : route.page === 'api' || route.page === 'deployment'
        ? route.id
        : undefined;
  useEffect(() => {
    document.title = `${detail ? `${detail} · ` : ''}${TITLES[route.page]} · Versa console`;
    main.current?.focus({ preventScroll: true });
  }, [route.page, detail]);
  const nav = (name: string, target: string, key: string) => (
    <a href={target} aria-current={section === key ? 'page' : undefined}>
      {name}
    </a>
  );
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href.overview()}>
          Versa <span>console</span>
        </a>
        <nav aria-label="Sections">
          {nav('Overview', href.overview(), 'overview')}
          {nav('Deployments', href.deployments(), 'deployments')}
          {nav('Alarms', href.alarms(), 'alarms')}
        </nav>
        <span class={`live ${up ? 'live-up' : 'live-down'}`} role="status">
          {up ? 'Live' : 'Reconnecting…'}
        </span>
        {signedIn && (
          <button
            type="button"
            class="sign-out"
            onClick={() => {
              signIn(undefined);
              window.location.reload();
            }}
          >
            Sign out {accessKey().accessKeyId}
          </button>
        )}
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

const root = document.getElementById('app')!;
function open(signedIn: boolean) {
  startLive();
  render(<App signedIn={signedIn} />, root);
}
void credentialsRequired().then(
  (required) => {
    if (!required) open(false);
    else if (sessionStorage.length > 0 && accessKey().accessKeyId !== 'console') open(true);
    else render(<SignIn onSignedIn={() => open(true)} />, root);
  },
  () => open(false),
);
