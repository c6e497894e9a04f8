// The 办事指南, as the API serves it (`GET /v1/guide`), for anyone: what the service
// covers, the materials (and which data sharing supplies), the steps and units, the time
// limit, fees, delivery, where to ask, the FAQ, and the 承诺书 template to print. No
// sign-in.

import { api, h, show, elderToggle } from './common.js';
import { DELIVERY, STEP } from './labels.js';

function section(title, ...body) {
  return h('section', { class: 'card' }, h('h2', {}, title), ...body);
}

async function guide() {
  // One bundle's guide (?bundle=, default 出生一件事), and the catalogue's other bundles.
  const bundle = new URLSearchParams(location.search).get('bundle') || 'birth';
  const [g, cat] = await Promise.all([
    api('/v1/guide?bundle=' + encodeURIComponent(bundle)),
    api('/v1/catalogue').catch(() => ({ bundles: [] })),
  ]);
  const commitment = g.commitment_template;
  const printable = commitment && h('section', { class: 'card commitment', 'aria-labelledby': 'cm-h' },
    h('h2', { id: 'cm-h' }, commitment.title),
    commitment.paragraphs.map((p) => h('p', {}, p)),
    h('p', { class: 'signature' }, commitment.signature),
    h('div', { class: 'actions no-print' },
      h('button', { type: 'button', class: 'secondary', onclick: () => { document.body.classList.add('printing-commitment'); window.print(); document.body.classList.remove('printing-commitment'); } }, '打印承诺书')));
  const others = cat.bundles.filter((b) => b.bundle_id !== bundle);
  const where = g.address_and_hours;
  show(
    elderToggle(),
    h('h2', {}, g.name),
    section('适用范围', g.scope ? h('p', {}, g.scope) : null, h('p', {}, '牵头单位：', g.lead_unit_name)),
    g.matters ? section('一次办理的事项', h('ul', {}, g.matters.map((m) => h('li', {}, m)))) : null,
    section('所需材料', h('ul', {}, g.materials.map((m) => h('li', {}, m.name, m.data_sharing ? '（同意数据共享的无需提交）' : '')))),
    section('办理流程', h('ol', {}, g.steps.map((s) => h('li', {}, `${s.dept_name}：${(s.matters || []).join('、') || s.name || STEP[s.step] || ''}`)))),
    section('办理时限与收费', h('p', {}, g.time_limit.text), g.fees ? h('p', {}, g.fees) : null),
    g.delivery ? section('结果送达', h('p', {}, g.delivery_text || g.delivery.map((d) => DELIVERY[d] || d).join('、'))) : null,
    section('咨询与办理地点',
      h('p', {}, '咨询电话：', g.consultation.phone), g.consultation.online ? h('p', {}, '网上办理：', g.consultation.online) : null,
      h('p', {}, '现场办理：', where ? where.address : g.consultation.onsite), where ? h('p', {}, '办理时间：', where.hours) : null),
    g.faq ? section('常见问题', g.faq.map((f) => h('details', {}, h('summary', {}, f.q), h('p', {}, f.a)))) : null,
    printable,
    others.length ? section('其他一件事', h('ul', {}, others.map((b) => h('li', {}, h('a', { href: 'guide.html?bundle=' + encodeURIComponent(b.bundle_id) }, b.name))))) : null,
    h('div', { class: 'actions no-print' }, g.online
      ? h('a', { class: 'button', href: 'index.html' }, '登录后在线申请')
      : h('p', { class: 'hint' }, '本事项暂未开通网上申请，请到行政服务中心窗口办理。')));
}

guide();
