// The page's access token (docs/security.md): taken from ?token= in the address
// (then removed from it, and remembered in this browser), or the one remembered
// (read in js/signaling.js, which the view page loads before anything else).
// Sent on every request and socket; a sign-in field asks for one when the relay
// refuses us.

import { KEY, token, withToken } from './signaling.js';

export { token, withToken };

export function authHeaders() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

// Asks the relay what our token allows; shows the sign-in field when it refuses.
export async function checkSession() {
  const res = await fetch('/api/session', { headers: authHeaders() }).catch(() => null);
  if (!res) return null;
  if (res.status === 401) {
    showSignIn((await res.json().catch(() => ({}))).message || 'sign in');
    return null;
  }
  return res.ok ? res.json() : null;
}

function showSignIn(why) {
  if (document.getElementById('signin')) return;
  const form = document.createElement('form');
  form.id = 'signin';
  form.className = 'signin';
  const note = document.createElement('span');
  note.textContent = token() ? `Token refused (${why}).` : 'This relay needs an access token.';
  const input = Object.assign(document.createElement('input'), { name: 'token', placeholder: 'paste a token' });
  input.setAttribute('aria-label', 'access token');
  const button = Object.assign(document.createElement('button'), { type: 'submit', textContent: 'Sign in' });
  form.append(note, input, button);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!input.value.trim()) return;
    localStorage.setItem(KEY, input.value.trim());
    location.reload();
  });
  document.querySelector('header')?.append(form);
}
