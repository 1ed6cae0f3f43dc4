// The login page, shown when access control is on and the UI has no session: an API token, or the server's Basic
// credentials (--http-credentials), opens one (POST /api/v1/session sets its cookie); then the page reloads.
import * as api from '../api.js';
import { h } from '../dom.js';

export function loginPage(main) {
  const token = h('input', { id: 'login-token', name: 'token', type: 'password', autocomplete: 'off' });
  const user = h('input', { id: 'login-user', name: 'username', autocomplete: 'username' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password',
    autocomplete: 'current-password' });
  const error = h('p', { class: 'error-box', role: 'alert', hidden: true });
  const form = h('form', { class: 'login', 'aria-label': 'Log in' },
    h('h1', { text: 'Log in' }),
    h('p', { text: 'This server checks who uses it. Give an API token (gnomon token create), or its user and password.' }),
    h('label', { for: 'login-token', text: 'API token' }), token,
    h('label', { for: 'login-user', text: 'User' }), user,
    h('label', { for: 'login-password', text: 'Password' }), password,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: 'Log in' })), error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      if (token.value.trim()) await api.login(token.value.trim());
      else await api.loginBasic(user.value, password.value);
      location.reload();
    } catch (err) {
      error.hidden = false;
      error.textContent = err.message;
    }
  });
  main.replaceChildren(form);
  token.focus();
}
