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
  const g = await api('/v1/guide');
  const commitment = g.commitment_template;
  const printable = h('section', { class: 'card commitment', 'aria-labelledby': 'cm-h' },
    h('h2', { id: 'cm-h' }, commitment.title),
    commitment.paragraphs.map((p) => h('p', {}, p)),
    h('p', { class: 'signature' }, commitment.signature),
    h('div', { class: 'actions no-print' },
      h('button', { type: 'button', class: 'secondary', onclick: () => { document.body.classList.add('printing-commitment'); window.print(); document.body.classList.remove('printing-commitment'); } }, '打印承诺书')));
  show(
    elderToggle(),
    section('适用范围', h('p', {}, g.scope), h('p', {}, '牵头单位：', g.lead_unit_name)),
    section('一次办理的事项', h('ul', {}, g.matters.map((m) => h('li', {}, m)))),
    section('所需材料', h('ul', {}, g.materials.map((m) => h('li', {}, m.name, m.data_sharing ? '（同意数据共享的无需提交）' : '')))),
    section('办理流程', h('ol', {}, g.steps.map((s) => h('li', {}, `${s.dept_name}：${(s.matters || []).join('、') || STEP[s.step] || ''}`)))),
    section('办理时限与收费', h('p', {}, g.time_limit.text), h('p', {}, g.fees)),
    section('结果送达', h('p', {}, g.delivery_text || g.delivery.map((d) => DELIVERY[d] || d).join('、'))),
    section('咨询与办理地点',
      h('p', {}, '咨询电话：', g.consultation.phone), h('p', {}, '网上办理：', g.consultation.online),
      h('p', {}, '现场办理：', g.address_and_hours.address), h('p', {}, '办理时间：', g.address_and_hours.hours)),
    section('常见问题', g.faq.map((f) => h('details', {}, h('summary', {}, f.q), h('p', {}, f.a)))),
    printable,
    h('div', { class: 'actions no-print' }, h('a', { class: 'button', href: 'index.html' }, '登录后在线申请')));
}

guide();
