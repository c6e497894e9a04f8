// The window officer's page: enter an offline application for a family, scan and upload
// its materials, print the acceptance notice, resubmit on the family's behalf (人工代办),
// and the site's appointments of the day.

import { api, h, field, frame, router, show, showQuiet, busy, fmtTime, flashNext, today, newKey } from './common.js';
import { applicationForm, collect, openBundles, sites } from './form.js';
import { caseView, refreshWhileMoving } from './casefile.js';

const s = frame(['window_officer'], [['#/', '代办申请'], ['#/find', '查找申请', '#/case'], ['#/appointments', '当日预约']]);

async function enter() {
  const bundles = await openBundles().catch(() => []);
  const form = await applicationForm({ mode: 'offline', siteId: s.site, bundles });
  const submit = h('button', { type: 'submit' }, '提交并受理');
  form.append(h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, form, async () => {
      const body = collect(form, 'service_center');
      const r = await api('/v1/applications', { method: 'POST', key: newKey(), body });
      flashNext('已提交，受理编号 ' + r.case_id + '。可继续扫描上传材料、打印受理通知书。');
      location.hash = '#/case/' + r.case_id;
    });
  });
  show(h('h2', {}, '代办线下申请'), h('p', { class: 'hint' }, '按申请人提供的材料填写；缺少的材料会一次列出，可当场扫描上传。'), form);
}

function find() {
  const form = h('form', { novalidate: true, class: 'card' },
    field('case_id', '受理编号', { autocomplete: 'off' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '查找')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = form.case_id.value.trim();
    if (id) location.hash = '#/case/' + encodeURIComponent(id);
  });
  show(h('h2', {}, '查找申请'), form);
}

async function oneCase(id, quiet) {
  const { case: c, nodes } = await caseView(id, { role: 'window_officer', reload: () => oneCase(id) });
  (quiet ? showQuiet : show)(...nodes);
  refreshWhileMoving(c, () => oneCase(id, true));
}

async function day() {
  const all = await sites();
  const form = h('form', { novalidate: true, class: 'card' },
    h('div', { class: 'grid two' },
      field('site', '受理点', { options: all.map((x) => [x.site_id, x.name]), value: s.site || all[0].site_id }),
      field('date', '日期', { type: 'date', value: today() })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '查看')));
  const out = h('div', {});
  const load = () => busy(form.querySelector('button'), form, async () => {
    const r = await api(`/v1/sites/${encodeURIComponent(form.site.value)}/appointments?date=${encodeURIComponent(form.date.value)}`);
    const items = r.appointments || r.items || [];
    out.replaceChildren(items.length
      ? h('div', { class: 'table-scroll' }, h('table', {}, h('caption', {}, `${form.date.value} 共 ${items.length} 个预约`),
        h('thead', {}, h('tr', {}, ['时间', '事项', '预约码', '关联申请'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, items.map((a) => h('tr', {},
          h('td', {}, fmtTime(a.start).slice(11)),
          h('td', {}, a.purpose === 'pickup' ? '领取证件' : '窗口办理'),
          h('td', {}, a.code),
          h('td', {}, a.case_id ? h('a', { href: '#/case/' + a.case_id }, a.case_id) : '—'))))))
      : h('p', {}, '当日暂无预约。'));
  });
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  show(h('h2', {}, '当日预约'), form, out);
  load();
}

if (s) {
  router([
    [/^#\/$/, enter],
    [/^#\/find$/, find],
    [/^#\/case\/([A-Za-z0-9]+)$/, oneCase],
    [/^#\/appointments$/, day],
  ]);
}
