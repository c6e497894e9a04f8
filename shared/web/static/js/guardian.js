// The parent's page: apply with the one form, answer the one notice, follow the case,
// download certificates, rate and complain, book an appointment.

import { api, h, field, frame, router, show, showQuiet, busy, pager, fmtTime, fmtDate, flashNext, today, showError, newKey } from './common.js';
import { statusBadge, STEP } from './labels.js';
import { applicationForm, collect, openBundles, sites } from './form.js';
import { caseView, refreshWhileMoving } from './casefile.js';

const s = frame(['guardian'], [['#/', '我的申请', '#/case'], ['#/new', '新的申请'], ['#/appointments', '预约']]);

function caseRows(cases) {
  return cases.map((c) => h('tr', {},
    h('td', {}, h('a', { href: '#/case/' + c.case_id }, c.newborn_name || c.case_id)),
    h('td', {}, statusBadge(c.status)),
    h('td', {}, c.current_step ? STEP[c.current_step] || c.current_step : '—'),
    h('td', {}, fmtTime(c.submitted_at)),
    h('td', {}, c.due_at ? fmtDate(c.due_at) : '—')));
}

async function list() {
  const r = await api('/v1/cases?limit=20');
  const body = h('tbody', {}, caseRows(r.cases));
  const more = pager(r.next_cursor, async function load(cursor, box) {
    const n = await api('/v1/cases?limit=20&cursor=' + encodeURIComponent(cursor));
    body.append(...caseRows(n.cases));
    box.replaceWith(pager(n.next_cursor, load) || '');
  });
  show(h('h2', {}, '我的申请'),
    r.cases.length
      ? h('div', { class: 'table-scroll' }, h('table', {},
        h('caption', { class: 'visually-hidden' }, '我的申请列表'),
        h('thead', {}, h('tr', {}, ['新生儿', '状态', '当前环节', '提交时间', '应办结'].map((t) => h('th', { scope: 'col' }, t)))),
        body))
      : h('p', {}, '您还没有申请。'),
    more,
    h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/new' }, '填写新的申请')));
}

async function apply() {
  const bundles = await openBundles().catch(() => []);
  const form = await applicationForm({ mode: 'online', sub: s.sub, prefill: s.prefill || {}, bundles });
  // The channel is where the page runs, not a question: inside the 浙里办 app (its user
  // agent, or the portal's link with ?from=zlb) or on the provincial website.
  const inApp = /zlb|zhelibanapp/i.test(navigator.userAgent) || new URLSearchParams(location.search).get('from') === 'zlb';
  const channel = inApp ? 'zlb_app' : 'zj_web';
  const submit = h('button', { type: 'submit' }, '提交申请');
  form.append(h('p', { class: 'hint' }, '缺少的材料会一次性告知您；同意数据共享的，身份证、户口簿和婚姻登记信息无需上传。'), h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, form, async () => {
      const body = collect(form, channel);
      const r = await api('/v1/applications', { method: 'POST', key: newKey(), body });
      flashNext('申请已提交，受理编号 ' + r.case_id + '。');
      location.hash = '#/case/' + r.case_id;
    });
  });
  show(h('h2', {}, '出生“一件事”联办申请'), h('p', { class: 'hint' }, '一张表单，一次提交。填写有误的项目会在栏目旁逐一提示。'), form);
}

async function oneCase(id, quiet) {
  const { case: c, nodes } = await caseView(id, { role: 'guardian', reload: () => oneCase(id) });
  (quiet ? showQuiet : show)(...nodes);
  refreshWhileMoving(c, () => oneCase(id, true));
}

async function appointments() {
  const mine = (await api('/v1/appointments')).appointments || [];
  const all = await sites();
  const siteName = (id) => (all.find((x) => x.site_id === id) || {}).name || id;
  const cases = (await api('/v1/cases?limit=100')).cases;
  const listBox = h('section', { class: 'card', 'aria-labelledby': 'appt-h' }, h('h3', { id: 'appt-h' }, '我的预约'),
    mine.length ? h('ul', {}, mine.map((a) => h('li', {},
      `${siteName(a.site_id)} ${fmtTime(a.start)}（${a.purpose === 'pickup' ? '领取证件' : '窗口办理'}，预约码 ${a.code}）`,
      a.status && !['active', 'booked'].includes(a.status) ? ` · ${{ cancelled: '已取消', used: '已到场', expired: '已过期' }[a.status] || a.status}` : [' ', h('button', {
        type: 'button', class: 'secondary', onclick: (ev) => busy(ev.currentTarget, listBox, async () => {
          await api('/v1/appointments/' + a.appointment_id, { method: 'DELETE' });
          flashNext('预约已取消。');
          appointments();
        }),
      }, '取消预约')]))) : h('p', { class: 'hint' }, '暂无预约。'));
  const form = h('form', { novalidate: true, class: 'card' }, h('h3', {}, '预约到窗口办理或领取证件'),
    h('div', { class: 'grid two' },
      field('site_id', '办理地点', { options: all.map((x) => [x.site_id, `${x.name}（${x.address}）`]) }),
      field('date', '日期', { type: 'date', min: today(), value: today(1) }),
      field('purpose', '事项', { options: [['apply', '窗口办理'], ['pickup', '领取证件']] }),
      field('case_id', '关联申请（选填）', { options: [['', '（无）'], ...cases.map((c) => [c.case_id, `${c.newborn_name || ''} ${c.case_id}`])] })),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary find-slots' }, '查询可预约时段')));
  const slotsBox = h('div', { class: 'slots' });
  form.querySelector('.find-slots').addEventListener('click', (ev) => busy(ev.currentTarget, form, async () => {
    const site = form.site_id.value;
    const date = form.date.value;
    const r = await api(`/v1/sites/${encodeURIComponent(site)}/slots?date=${encodeURIComponent(date)}`);
    if (!r.slots.length) {
      slotsBox.replaceChildren(h('p', {}, '该日不办公或已无时段，请选择其他工作日。'));
      return;
    }
    const group = h('fieldset', {}, h('legend', {}, `${date} 可选时段`), r.slots.map((x, i) => {
      const full = x.booked >= x.capacity;
      const id = 'slot' + i;
      return h('div', { class: 'field check' },
        h('input', { type: 'radio', name: 'slot', id, value: x.start, disabled: full }),
        h('label', { for: id }, `${fmtTime(x.start).slice(11)}–${fmtTime(x.end).slice(11)}（余 ${x.capacity - x.booked}）`));
    }));
    const book = h('button', { type: 'button' }, '确认预约');
    book.addEventListener('click', () => busy(book, form, async () => {
      const chosen = form.querySelector('input[name=slot]:checked');
      if (!chosen) {
        showError(form, { message: '请选择一个时段', details: [] });
        return;
      }
      const body = { site_id: site, start: chosen.value, purpose: form.purpose.value };
      if (form.case_id.value) body.case_id = form.case_id.value;
      const a = await api('/v1/appointments', { method: 'POST', body });
      flashNext(`预约成功，预约码 ${a.code}，请按时到达。`);
      appointments();
    }));
    slotsBox.replaceChildren(group, h('div', { class: 'actions' }, book));
  }));
  form.append(slotsBox);
  show(h('h2', {}, '预约'), listBox, form);
}

if (s) {
  router([
    [/^#\/$/, list],
    [/^#\/new$/, apply],
    [/^#\/case\/([A-Za-z0-9]+)$/, oneCase],
    [/^#\/appointments$/, appointments],
  ]);
}

