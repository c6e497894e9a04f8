// The department officer's page: the queue of their department and region (overdue
// first), a case with its materials opened in the page, approve / return / reject with
// reasons, and the inbox of bad ratings and complaints with their follow-ups.

import { api, h, field, frame, router, show, showQuiet, busy, pager, fmtTime, fmtDate, flash, flashNext } from './common.js';
import { STEP, DEPT, badge } from './labels.js';
import { caseView, refreshWhileMoving } from './casefile.js';

const s = frame(['dept_officer'], [['#/', '待办任务', '#/task'], ['#/feedback', '好差评与投诉']]);

function taskRows(tasks) {
  return tasks.map((t) => h('tr', {},
    h('td', {}, h('a', { href: '#/task/' + encodeURIComponent(t.task_id) }, STEP[t.step] || t.step)),
    h('td', {}, t.summary),
    h('td', {}, (t.findings || []).join('；') || '—'),
    h('td', {}, fmtDate(t.due_at), ' ', t.overdue ? badge(['已超期', 'bad']) : ''),
    h('td', {}, t.region)));
}

async function queue() {
  const filter = h('form', { novalidate: true, class: 'card no-print' },
    h('div', { class: 'grid two' },
      field('overdue', '只看超期任务', { type: 'checkbox' }),
      field('step', '环节', { options: [['', '全部环节'], ...Object.entries(STEP)] })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '筛选')));
  const table = h('div', {});
  const load = async () => {
    const params = new URLSearchParams({ status: 'open', limit: '20' });
    if (filter.overdue.checked) params.set('overdue', 'true');
    if (filter.step.value) params.set('step', filter.step.value);
    const r = await api('/v1/tasks?' + params);
    const body = h('tbody', {}, taskRows(r.tasks));
    const more = pager(r.next_cursor, async function next(cursor, box) {
      params.set('cursor', cursor);
      const n = await api('/v1/tasks?' + params);
      body.append(...taskRows(n.tasks));
      box.replaceWith(pager(n.next_cursor, next) || '');
    });
    table.replaceChildren(r.tasks.length
      ? h('div', { class: 'table-scroll' }, h('table', { class: 'tasks' },
        h('caption', {}, `${DEPT[s.dept] || s.dept}${s.region ? '（地区 ' + s.region + '）' : ''}待办任务，按时限先后排列`),
        h('thead', {}, h('tr', {}, ['环节', '摘要', '需核验', '时限', '地区'].map((t) => h('th', { scope: 'col' }, t)))), body))
      : h('p', {}, '暂无待办任务。'), more);
  };
  filter.addEventListener('submit', (ev) => { ev.preventDefault(); busy(filter.querySelector('button'), filter, load); });
  await load();
  show(h('h2', {}, '待办任务'), filter, table);
}

function decisionForm(taskId, step) {
  return (c) => {
    const form = h('form', { novalidate: true, class: 'card decision no-print', 'aria-labelledby': 'dec-h' },
      h('h3', { id: 'dec-h' }, `审核：${STEP[step] || step}`),
      h('fieldset', {}, h('legend', {}, '审核意见'),
        ['approve', 'return', 'reject'].map((d) => h('div', { class: 'field check' },
          h('input', { type: 'radio', name: 'decision', id: 'd-' + d, value: d, 'data-field': 'decision', checked: d === 'approve' }),
          h('label', { for: 'd-' + d }, { approve: '通过', return: '退回补正', reject: '不予办理' }[d]))),
        h('p', { class: 'field-error', 'data-error-for': 'decision' })),
      field('reasons', '理由（退回或不予办理时必填，每行一条，将告知申请人）', { type: 'textarea', maxlength: '1000' }),
      step === 'household_registration' ? h('div', { class: 'grid two' },
        field('data.address_code', '户籍地区划代码（选填）', { inputmode: 'numeric', maxlength: '6' }),
        field('data.household_number', '户号（选填）')) : null,
      step === 'medical_insurance' ? field('data.amount_cny', '保费金额（元，未配置保费时必填）', { type: 'number', min: '0' }) : null,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, '提交审核意见')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      busy(form.querySelector('button[type=submit]'), form, async () => {
        const decision = form.querySelector('input[name=decision]:checked').value;
        const reasons = form.reasons.value.split('\n').map((x) => x.trim()).filter(Boolean);
        const data = {};
        for (const k of ['address_code', 'household_number']) {
          const el = form.querySelector(`[data-field="data.${k}"]`);
          if (el && el.value.trim()) data[k] = el.value.trim();
        }
        const amount = form.querySelector('[data-field="data.amount_cny"]');
        if (amount && amount.value) data.amount_cny = Number(amount.value);
        const body = { decision, reasons, version: c.version };
        if (Object.keys(data).length) body.data = data;
        try {
          await api(`/v1/tasks/${encodeURIComponent(taskId)}/decision`, { method: 'POST', body });
        } catch (e) {
          if (e.status === 409) e.message = '该申请已有更新（可能已被他人处理），请刷新后再审核。';
          throw e;
        }
        flashNext({ approve: '已通过。', return: '已退回，申请人将收到补正通知。', reject: '已作出不予办理决定。' }[decision]);
        location.hash = '#/';
      });
    });
    return form;
  };
}

async function task(taskId) {
  const [caseId, step] = taskId.split('.');
  const { nodes } = await caseView(caseId, {
    role: 'dept_officer',
    reload: () => task(taskId),
    extra: (kase) => {
      const st = kase.steps.find((x) => x.step === step);
      return st && st.status === 'awaiting_review' ? decisionForm(taskId, step)(kase) : h('p', { class: 'alert info' }, '该任务已处理。');
    },
  });
  show(...nodes);
}

async function oneCase(id, quiet) {
  const { case: c, nodes } = await caseView(id, { role: 'dept_officer', reload: () => oneCase(id) });
  (quiet ? showQuiet : show)(...nodes);
  refreshWhileMoving(c, () => oneCase(id, true));
}

/** Now in Beijing time, as a `datetime-local` value. */
function nowLocal() {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).formatToParts(new Date()).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour === '24' ? '00' : p.hour}:${p.minute}`;
}

function followUps(item) {
  const box = h('div', { class: 'actions-col' });
  // The list is shown again before the success is told: what the officer types next goes
  // into the new list, never into a form about to be replaced.
  const post = async (path, body, okText) => {
    await api(`/v1/feedback/${encodeURIComponent(item.feedback_id)}/${path}`, { method: 'POST', body });
    await feedback();
    flash(okText);
  };
  if (item.kind === 'complaint') {
    const f = h('form', { novalidate: true }, field('text', '答复内容', { type: 'textarea', maxlength: '2000' }), h('div', { class: 'actions' }, h('button', { type: 'submit' }, '答复')));
    f.addEventListener('submit', (ev) => { ev.preventDefault(); busy(f.querySelector('button'), f, () => post('answer', { text: f.text.value.trim() }, '已答复。')); });
    box.append(f);
  } else {
    const v = h('form', { novalidate: true },
      h('div', { class: 'grid two' }, field('visited_at', '回访时间（北京时间）', { type: 'datetime-local', value: nowLocal() }), field('summary', '回访情况', { maxlength: '1000' })),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, '登记回访')));
    v.addEventListener('submit', (ev) => {
      ev.preventDefault();
      busy(v.querySelector('button'), v, () => post('return-visit', { visited_at: v.visited_at.value ? v.visited_at.value + ':00+08:00' : '', summary: v.summary.value.trim() }, '已登记回访。'));
    });
    const r = h('form', { novalidate: true }, field('summary', '整改情况', { maxlength: '1000' }), h('div', { class: 'actions' }, h('button', { type: 'submit' }, '登记整改')));
    r.addEventListener('submit', (ev) => { ev.preventDefault(); busy(r.querySelector('button'), r, () => post('rectification', { summary: r.summary.value.trim() }, '已登记整改。')); });
    box.append(v, r);
  }
  return box;
}

async function feedback() {
  const r = await api('/v1/feedback?status=open&limit=20');
  show(h('h2', {}, '好差评与投诉'),
    ...(r.items.length ? r.items : [null]).map((i) => (!i ? h('p', {}, '暂无待跟进的差评或投诉。') : h('section', { class: 'card' },
      h('h3', {}, i.kind === 'complaint' ? '投诉' : '差评', ' · ', STEP[i.step] || i.step),
      h('p', {}, '申请 ', h('a', { href: '#/case/' + i.case_id }, i.case_id), `，${fmtTime(i.created_at)}`),
      h('p', { class: 'hint' }, [i.return_visit_due ? `回访期限 ${fmtDate(i.return_visit_due)}` : '', i.rectify_due ? `整改期限 ${fmtDate(i.rectify_due)}` : ''].filter(Boolean).join('，')),
      followUps(i)))));
}

if (s) {
  router([
    [/^#\/$/, queue],
    [/^#\/task\/(.+)$/, task],
    [/^#\/case\/([A-Za-z0-9]+)$/, oneCase],
    [/^#\/feedback$/, feedback],
  ]);
}

