// Sign-in: locally, a development sign-in (`onething serve --dev-login`) that asks the
// server for a token of a chosen role; on AWS, the provincial SSO (OpenID Connect)
// configured in config.json. The token is kept for this browser tab only.

import { loadConfig, session, claimsOf, h, field, $, busy, ApiError, newKey } from './common.js';
import { ROLE, DEPT } from './labels.js';

const PAGE = { guardian: 'guardian.html', window_officer: 'window.html', dept_officer: 'officer.html', supervisor: 'supervisor.html' };

function mask(sub) {
  return sub && sub.length > 6 ? sub.slice(0, 3) + '*'.repeat(sub.length - 5) + sub.slice(-2) : sub || '';
}

/** Sign in with `token`; with a portal's configuration, its identity claims pre-fill the
 * applicant's fields of the form (config.json `prefill`: field → claim). */
function start(token, prefillMap = {}) {
  const c = claimsOf(token);
  const prefill = {};
  for (const [fieldName, claim] of Object.entries(prefillMap || {})) {
    if (typeof c[claim] === 'string' && c[claim]) prefill[fieldName] = c[claim];
  }
  const where = [c.dept ? DEPT[c.dept] || c.dept : null, c.region ? '地区 ' + c.region : null].filter(Boolean).join(' · ');
  session.set({ token, role: c.role, dept: c.dept, region: c.region, site: c.site, hospital: c.hospital, sub: c.sub, exp: c.exp, prefill, label: `${ROLE[c.role] || c.role} ${c.role === 'guardian' ? mask(c.sub) : c.sub}${where ? '（' + where + '）' : ''}` });
  const next = new URLSearchParams(location.search).get('next');
  const page = PAGE[c.role] || 'index.html';
  location.href = next && next.startsWith(page) ? next : page;
}

const PRESETS = [
  ['家长：张伟（温州鹿城，父亲）', { role: 'guardian', sub: '330302198808080157' }],
  ['家长：王海（杭州西湖，父亲）', { role: 'guardian', sub: '330106199001010130' }],
  ['家长：刘芳（温州鹿城，母亲）', { role: 'guardian', sub: '330302198910100265' }],
  ['窗口：鹿城区行政服务中心', { role: 'window_officer', dept: 'service_center', region: '330302', site: 'SC330302', sub: 'window-330302' }],
  ['公安：鹿城区户籍民警', { role: 'dept_officer', dept: 'police', region: '330302', sub: 'police-330302' }],
  ['医院：温州市人民医院', { role: 'dept_officer', dept: 'hospital', region: '330302', hospital: 'H330302001', sub: 'hospital-330302' }],
  ['医保：鹿城区医保经办', { role: 'dept_officer', dept: 'medical_insurance', region: '330302', sub: 'mi-330302' }],
  ['监管：全省效能监督', { role: 'supervisor', region: '33', sub: 'supervisor-33' }],
];

function devLogin(cfg) {
  const form = h('form', { novalidate: true, class: 'card', 'aria-labelledby': 'dev-h' },
    h('h2', { id: 'dev-h' }, '开发环境登录'),
    h('p', { class: 'hint' }, '本地运行（onething serve --dev-login）时可选择任意角色登录，仅用于试用和测试；正式环境通过统一身份认证登录。'),
    h('div', { class: 'grid three' },
      field('role', '角色', { options: Object.entries(ROLE) }),
      field('sub', '用户标识（家长填公民身份号码）', { autocomplete: 'off' }),
      field('dept', '部门（工作人员）', { options: [['', '（无）'], ...Object.entries(DEPT)] }),
      field('region', '地区代码（工作人员必填，如 330302；全省填 33）', { inputmode: 'numeric', maxlength: '6' }),
      field('hospital', '医院机构代码（医院人员，选填）'),
      field('site', '受理点编号（窗口人员，选填）')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '登录')));
  const fill = (p) => {
    for (const k of ['role', 'sub', 'dept', 'region', 'hospital', 'site']) form.querySelector(`[data-field="${k}"]`).value = p[k] || '';
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const b = form.querySelector('button[type=submit]');
    busy(b, form, async () => {
      const body = {};
      for (const k of ['role', 'sub', 'dept', 'region', 'hospital', 'site']) {
        const v = form.querySelector(`[data-field="${k}"]`).value.trim();
        if (v) body[k] = v;
      }
      const r = await fetch(cfg.api_base + '/dev/token', {
        method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': newKey() }, body: JSON.stringify(body),
      });
      const data = await r.json().catch(() => null);
      if (!r.ok) throw new ApiError(r.status, data && data.error);
      start(data.token);
    });
  });
  const presets = h('section', { class: 'card', 'aria-labelledby': 'preset-h' }, h('h2', { id: 'preset-h' }, '示例身份'),
    h('p', { class: 'hint' }, '内置示例数据中的家庭和工作人员，一键登录。'),
    h('div', { class: 'actions' }, PRESETS.map(([label, p]) => h('button', {
      type: 'button', class: 'secondary preset', 'data-role': p.role, 'data-sub': p.sub,
      onclick: () => { fill(p); form.requestSubmit(); },
    }, label))));
  return [presets, form];
}

/** OpenID Connect, implicit flow: the SSO returns an ID token in the URL fragment. */
function oidcLogin(o) {
  const b = h('button', { type: 'button' }, '统一身份认证登录');
  b.addEventListener('click', () => {
    const nonce = newKey();
    sessionStorage.setItem('onething.nonce', nonce);
    const u = new URL(o.authorize_url);
    u.searchParams.set('response_type', 'id_token');
    u.searchParams.set('client_id', o.client_id);
    u.searchParams.set('redirect_uri', location.origin + location.pathname);
    u.searchParams.set('scope', o.scope || 'openid');
    u.searchParams.set('nonce', nonce);
    location.href = u.toString();
  });
  return h('section', { class: 'card' }, h('h2', {}, '登录'), h('p', {}, '请使用浙江政务服务网统一身份认证登录。'), h('div', { class: 'actions' }, b));
}

async function main() {
  const cfg = await loadConfig();
  const frag = new URLSearchParams(location.hash.slice(1));
  if (frag.get('id_token')) {
    const token = frag.get('id_token');
    const c = claimsOf(token);
    if (c.nonce && c.nonce === sessionStorage.getItem('onething.nonce')) {
      start(token, cfg.prefill);
      return;
    }
  }
  const nodes = [];
  const s = session.get();
  if (s) {
    nodes.push(h('div', { class: 'alert info' }, `您已登录：${s.label}。`, h('a', { href: PAGE[s.role] }, '进入工作台'), '，或选择其他身份登录。'));
  }
  if (cfg.dev_login) nodes.push(...devLogin(cfg));
  else if (cfg.oidc && cfg.oidc.authorize_url) nodes.push(oidcLogin(cfg.oidc));
  else nodes.push(h('div', { class: 'alert error' }, '尚未配置登录方式。本地试用请以 onething serve --dev-login 启动。'));
  nodes.push(h('section', { class: 'card' }, h('h2', {}, '办事指南'), h('p', {}, h('a', { href: 'guardian.html' }, '家长办事'), ' · ', h('a', { href: 'window.html' }, '窗口受理'), ' · ', h('a', { href: 'officer.html' }, '部门审核'), ' · ', h('a', { href: 'supervisor.html' }, '监督管理'))));
  $('#view').replaceChildren(...nodes);
}

main();
