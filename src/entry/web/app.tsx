import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { apiKey, signOut } from './api';
import { Approvals } from './pages/approvals';
import { CapsuleEditor } from './pages/capsule-editor';
import { Capsules } from './pages/capsules';
import { Chat } from './pages/chat';
import { Evals } from './pages/evals';
import { Events } from './pages/events';
import { Learning } from './pages/learning';
import { Replay } from './pages/replay';
import { SignIn } from './pages/sign-in';
import { TracePage } from './pages/trace';

const sections = [
  { href: '/chat', label: 'Chat' },
  { href: '/capsules', label: 'Capsules' },
  { href: '/learning', label: 'Learning' },
  { href: '/replay', label: 'Replay' },
  { href: '/events', label: 'Events' },
  { href: '/evals', label: 'Evals' },
  { href: '/approvals', label: 'Approvals' },
];

function Shell() {
  const location = useLocation();
  const [signedIn, setSignedIn] = useState(apiKey() !== null);
  useEffect(() => {
    const onSignedOut = () => setSignedIn(false);
    window.addEventListener('soma:signed-out', onSignedOut);
    return () => window.removeEventListener('soma:signed-out', onSignedOut);
  }, []);
  useEffect(() => {
    if (!signedIn && location.path !== '/signin') location.route(`/signin?next=${encodeURIComponent(location.url === '/' ? '/chat' : location.url)}`, true);
    if (signedIn && location.path === '/') location.route('/chat', true);
  }, [signedIn, location.url]);
  // Move focus to the new page's heading after client-side navigation (screen readers, keyboard).
  useEffect(() => {
    const heading = document.querySelector<HTMLElement>('main h1');
    heading?.focus({ preventScroll: true });
  }, [location.path]);

  if (!signedIn || location.path === '/signin') {
    return (
      <main id="main" class="signin-page">
        <SignIn onSignedIn={() => setSignedIn(true)} />
      </main>
    );
  }
  const current = (href: string) => location.path === href || location.path.startsWith(`${href}/`) || (href === '/learning' && location.path.startsWith('/learning')) || (href === '/chat' && location.path.startsWith('/trace'));
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/chat">
          <img src="/favicon.svg" alt="" width="22" height="22" /> Soma Studio
        </a>
        <nav aria-label="Sections">
          <ul>
            {sections.map((s) => (
              <li key={s.href}>
                <a href={s.href} aria-current={current(s.href) ? 'page' : undefined}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="account">
          <a href="/docs" class="muted">
            API docs
          </a>
          <button type="button" class="secondary" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">
        <Router>
          <Route path="/chat" component={Chat} />
          <Route path="/chat/:conversationId" component={Chat} />
          <Route path="/capsules" component={Capsules} />
          <Route path="/capsules/new" component={CapsuleEditor} />
          <Route path="/capsules/:id" component={CapsuleEditor} />
          <Route path="/trace/:turnId" component={TracePage} />
          <Route path="/learning" component={Learning} />
          <Route path="/learning/:capsuleId" component={Learning} />
          <Route path="/replay" component={Replay} />
          <Route path="/replay/:turnId" component={Replay} />
          <Route path="/events" component={Events} />
          <Route path="/evals" component={Evals} />
          <Route path="/approvals" component={Approvals} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </>
  );
}

function NotFound() {
  return (
    <section>
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        Go to the <a href="/chat">chat</a>.
      </p>
    </section>
  );
}

export function App() {
  return (
    <LocationProvider>
      <Shell />
    </LocationProvider>
  );
}
