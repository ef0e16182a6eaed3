// Network namespaces a test builds for itself (../../shared/LAB.md): the
// namespaces, the veth pairs between them, and management links from the test's
// own namespace (its API calls and the browsers' DevTools). Everything made is
// deleted at the end.
import { execFileSync } from 'node:child_process';

export const sh = (...args) => execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
export const inNs = (ns, ...args) => sh('ip', 'netns', 'exec', ns, ...args);

// One namespace per key, named its prefix and a tag of this run, loopback up.
// Returns { tag, ns: { key: name } }.
export function makeNamespaces(stack, prefixes) {
  const tag = `${process.pid % 10000}${Math.floor(Math.random() * 100)}`;
  const ns = Object.fromEntries(Object.entries(prefixes).map(([key, prefix]) => [key, `${prefix}${tag}`]));
  const made = [];
  stack.onCleanup(async () => {
    for (const name of made.reverse()) { try { sh('ip', 'netns', 'del', name); } catch { /* gone */ } }
  });
  for (const name of Object.values(ns)) {
    sh('ip', 'netns', 'add', name);
    made.push(name);
    inNs(name, 'ip', 'link', 'set', 'lo', 'up');
  }
  return { tag, ns };
}

// A veth pair from namespace `a` (port `aName`) to `b` (`bName`), both up;
// `aAddr`/`bAddr` (CIDR) when given. MTU 1500, a veth's default.
export function veth(tag, a, aName, b, bName, aAddr, bAddr) {
  sh('ip', 'link', 'add', `t${tag}`, 'type', 'veth', 'peer', 'name', `u${tag}`);
  sh('ip', 'link', 'set', `t${tag}`, 'netns', a);
  sh('ip', 'link', 'set', `u${tag}`, 'netns', b);
  inNs(a, 'ip', 'link', 'set', `t${tag}`, 'name', aName);
  inNs(b, 'ip', 'link', 'set', `u${tag}`, 'name', bName);
  if (aAddr) inNs(a, 'ip', 'addr', 'add', aAddr, 'dev', aName);
  if (bAddr) inNs(b, 'ip', 'addr', 'add', bAddr, 'dev', bName);
  inNs(a, 'ip', 'link', 'set', aName, 'up');
  inNs(b, 'ip', 'link', 'set', bName, 'up');
}

// A /30 from the test's namespace (`here`) to port "mgmt" of namespace `name`
// (`there`); no router forwards it, so it carries no media.
export function managementLink(stack, tag, name, here, there) {
  const local = `m${tag}${name}`.slice(0, 15);
  sh('ip', 'link', 'add', local, 'type', 'veth', 'peer', 'name', 'mgmt', 'netns', name);
  // Removed at once at the end (a namespace may outlive its name for a moment).
  stack.onCleanup(async () => { try { sh('ip', 'link', 'del', local); } catch { /* gone */ } });
  sh('ip', 'addr', 'add', `${here}/30`, 'dev', local);
  sh('ip', 'link', 'set', local, 'up');
  inNs(name, 'ip', 'addr', 'add', `${there}/30`, 'dev', 'mgmt');
  inNs(name, 'ip', 'link', 'set', 'mgmt', 'up');
}
