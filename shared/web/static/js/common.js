// Shared by every page: the session, calls to the API, small DOM helpers, errors shown
// in Chinese beside their fields, and paging.

const SESSION = 'onething.session';
let config = null;

/** The front's settings: `config.json` beside the pages (the API's base URL, sign-in). */
export async function loadConfig() {
  if (config) return config;
  try {
    const r = await fetch('config.json', { cache: 'no-store' });
    config = r.ok ? await r.json() : {};
  } catch {
    config = {};
  }
  config.api_base = (config.api_base || '').replace(/\/$/, '');
  return config;
}

export const session = {
  get() {
    try {
      const s = JSON.parse(sessionStorage.getItem(SESSION));
      if (!s || !s.token || (s.exp && s.exp * 1000 < Date.now())) return null;
      return s;
    } catch {
      return null;
    }
  },
  set(s) { sessionStorage.setItem(SESSION, JSON.stringify(s)); },
  clear() { sessionStorage.removeItem(SESSION); },
};

/** The claims of a JWT (not verified here: the API verifies every call). */
export function claimsOf(token) {
  const part = token.split('.')[1] || '';
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

export class ApiError extends Error {
  constructor(status, error) {
    super((error && error.message) || '请求未成功，请稍后再试');
    this.status = status;
    this.code = (error && error.code) || 'http_' + status;
    this.details = (error && error.details) || [];
    this.existingCaseId = error && error.existing_case_id;
  }
}

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Call the API: JSON in and out, the session's token, an idempotency key on POSTs. */
export async function api(path, { method = 'GET', body, key } = {}) {
  const cfg = await loadConfig();
  const s = session.get();
  const headers = {};
  if (s) headers.authorization = 'Bearer ' + s.token;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method === 'POST') headers['idempotency-key'] = key || newKey();
  let r;
  try {
    r = await fetch(cfg.api_base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { code: 'network', message: '网络连接失败，请检查网络后重试' });
  }
  const text = await r.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!r.ok) {
    if (r.status === 401) {
      session.clear();
      throw new ApiError(401, { code: 'unauthorized', message: '登录已失效，请重新登录' });
    }
    throw new ApiError(r.status, data && data.error);
  }
  return data;
}

/** Build an element: h('p', {class: 'x', onclick: f}, 'text', child). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

let uid = 0;
/** A labelled input: `field('newborn.name', '新生儿姓名', {type:'text'})`. */
export function field(name, label, attrs = {}, hint) {
  const id = 'f' + ++uid;
  const err = h('p', { class: 'field-error', id: id + '-err', 'data-error-for': name });
  const hintEl = hint ? h('p', { class: 'hint', id: id + '-hint' }, hint) : null;
  const describedby = [hintEl ? id + '-hint' : null, id + '-err'].filter(Boolean).join(' ');
  let input;
  if (attrs.options) {
    const { options, ...rest } = attrs;
    input = h('select', { id, name, 'data-field': name, 'aria-describedby': describedby, ...rest },
      options.map(([v, t]) => h('option', { value: v }, t)));
    if (attrs.value !== undefined) input.value = attrs.value;
  } else if (attrs.type === 'textarea') {
    const { type, ...rest } = attrs;
    input = h('textarea', { id, name, 'data-field': name, 'aria-describedby': describedby, ...rest });
  } else {
    input = h('input', { id, name, 'data-field': name, 'aria-describedby': describedby, type: 'text', ...attrs });
  }
  if (attrs.type === 'checkbox') {
    return h('div', { class: 'field check' }, input, h('label', { for: id }, label), hintEl, err);
  }
  return h('div', { class: 'field' }, h('label', { for: id }, label), hintEl, input, err);
}

/** Clear a form's field errors. */
export function clearErrors(root) {
  for (const e of root.querySelectorAll('.field-error')) e.textContent = '';
  for (const i of root.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
  const s = root.querySelector('.error-summary');
  if (s) s.remove();
}

/**
 * Show an API error: each detail beside its field (`data-field` = the detail's `field`),
 * the rest and the message in a summary at the top of `root`, focused.
 */
export function showError(root, err, fieldPrefix = '') {
  clearErrors(root);
  const loose = [];
  let first = null;
  for (const d of err.details || []) {
    // A resubmission's problems name their fields under `corrections.`.
    const name = fieldPrefix + (d.field || '').replace(/^corrections\./, '');
    const slot = d.field && root.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (slot) {
      slot.textContent = d.message;
      const input = root.querySelector(`[data-field="${CSS.escape(name)}"]`);
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        first = first || input;
      }
    } else {
      loose.push(d.message);
    }
  }
  const summary = h('div', { class: 'alert error error-summary', role: 'alert', tabindex: '-1' },
    h('strong', {}, err.message || '请求未成功'),
    (err.details || []).length ? h('p', { class: 'hint' }, `共 ${err.details.length} 处需要修改，已在对应栏目旁标出。`) : null,
    loose.length ? h('ul', {}, loose.map((m) => h('li', {}, m))) : null,
    err.existingCaseId ? h('p', {}, '已有的申请：', h('a', { href: '#/case/' + err.existingCaseId }, err.existingCaseId)) : null);
  root.prepend(summary);
  (first || summary).focus();
}

/** A message at the top of the page (status region: read out by screen readers). */
export function flash(text, kind = 'ok') {
  const f = $('#flash');
  f.replaceChildren(text ? h('div', { class: 'alert ' + kind }, text) : '');
}

/** Run `work` with `button` disabled, reporting a failure in `errRoot`. */
export async function busy(button, errRoot, work) {
  button.disabled = true;
  try {
    return await work();
  } catch (e) {
    if (e instanceof ApiError) showError(errRoot, e);
    else showError(errRoot, new ApiError(0, { message: '页面出错，请刷新后重试' }));
    if (!(e instanceof ApiError)) console.warn(e);
    return undefined;
  } finally {
    button.disabled = false;
  }
}

/** Times in Beijing time, as a citizen reads them. */
export function fmtTime(t) {
  if (!t) return '—';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return t;
  return new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hour12: false,
  }).format(d);
}

export function fmtDate(t) {
  if (!t) return '—';
  return fmtTime(t).slice(0, 10);
}

/** Today in Beijing time, `YYYY-MM-DD`. */
export function today(offsetDays = 0) {
  const d = new Date(Date.now() + offsetDays * 86400000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(d);
}

/**
 * The page's frame: who is signed in (with sign-out), the tabs, and the role check. Returns
 * the session, or null after sending the visitor to the sign-in page.
 */
const ELDER = 'onething.elder';
// 长辈版: larger type, one column, bigger targets; remembered on this device.
if (localStorage.getItem(ELDER) === '1') document.documentElement.classList.add('elder');

/** The switch between the standard pages and 长辈版 (larger type, fewer things at once). */
export function elderToggle() {
  const on = () => document.documentElement.classList.contains('elder');
  const b = h('button', { type: 'button', class: 'secondary elder-toggle', 'aria-pressed': String(on()) }, on() ? '标准版' : '长辈版');
  b.addEventListener('click', () => {
    const next = !on();
    document.documentElement.classList.toggle('elder', next);
    localStorage.setItem(ELDER, next ? '1' : '0');
    b.textContent = next ? '标准版' : '长辈版';
    b.setAttribute('aria-pressed', String(next));
  });
  return b;
}

export function frame(roles, tabs) {
  const s = session.get();
  if (!s || !roles.includes(s.role)) {
    const back = encodeURIComponent(location.pathname.split('/').pop() + location.hash);
    location.replace('index.html?next=' + back);
    return null;
  }
  const out = h('button', { type: 'button', onclick: () => { session.clear(); location.href = 'index.html'; } }, '退出登录');
  $('#who').replaceChildren(h('span', {}, s.label || s.role), ...(s.role === 'guardian' ? [elderToggle()] : []), out);
  const nav = $('#nav');
  const mark = () => {
    const here = location.hash || '#/';
    for (const a of nav.querySelectorAll('a')) {
      if (a.getAttribute('href') === here || (a.dataset.prefix && here.startsWith(a.dataset.prefix))) {
        a.setAttribute('aria-current', 'page');
      } else {
        a.removeAttribute('aria-current');
      }
    }
  };
  nav.replaceChildren(...tabs.map(([href, text, prefix]) => h('a', { href, 'data-prefix': prefix }, text)));
  window.addEventListener('hashchange', mark);
  mark();
  return s;
}

/** A tiny hash router: routes = [[/^#\/case\/(.+)$/, (id) => ...], ...]. */
export function router(routes) {
  const go = async () => {
    const hash = location.hash || '#/';
    flashOnNav();
    for (const [re, fn] of routes) {
      const m = hash.match(re);
      if (m) {
        const view = $('#view');
        view.replaceChildren(h('p', { class: 'hint' }, '正在加载…'));
        try {
          await fn(...m.slice(1).map(decodeURIComponent));
        } catch (e) {
          view.replaceChildren();
          showError(view, e instanceof ApiError ? e : new ApiError(0, { message: '页面出错，请刷新后重试' }));
          if (!(e instanceof ApiError)) console.warn(e);
        }
        return;
      }
    }
    location.hash = '#/';
  };
  window.addEventListener('hashchange', go);
  go();
}

let keepFlash = false;
/** Keep the next flash message across one navigation (e.g. "提交成功" then the case). */
export function flashNext(text, kind = 'ok') {
  flash(text, kind);
  keepFlash = true;
}
function flashOnNav() {
  if (keepFlash) keepFlash = false;
  else flash('');
}

/** Set the view's content without moving focus (a refresh of what is shown). */
/** The nodes to show: a part that is absent (null, undefined, false) is left out, never
 * shown as the text "null". */
const present = (nodes) => nodes.filter((n) => n !== null && n !== undefined && n !== false);

export function showQuiet(...nodes) {
  $('#view').replaceChildren(...present(nodes));
}

/** Set the view's content and move focus to its heading (keyboard and screen readers). */
export function show(...nodes) {
  const view = $('#view');
  view.replaceChildren(...present(nodes));
  const heading = view.querySelector('h2');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
  }
}

/** "下一页" for a paged list: calls `load(cursor)` and appends what it returns. */
export function pager(nextCursor, load) {
  if (!nextCursor) return null;
  const b = h('button', { type: 'button', class: 'secondary' }, '加载更多');
  const box = h('div', { class: 'actions' }, b);
  b.addEventListener('click', async () => {
    b.disabled = true;
    await load(nextCursor, box);
  });
  return box;
}
