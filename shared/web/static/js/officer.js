// The department officer's page: the queue of their department and region (overdue
// first), a case with its materials opened in the page, approve / return / reject with
// reasons, and the inbox of bad ratings and complaints with their follow-ups.

import { api, h, field, frame, router, show, showQuiet, busy, pager, fmtTime, fmtDate, flash, flashNext } from './common.js';
import { STEP, DEPT, badge } from './labels.js';
import { caseView, refreshWhileMoving, dl } from './casefile.js';

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

// The form fields a task view shows, by their path, with their Chinese names.
const FACT = {
  name: '姓名', sex: '性别', birth_time: '出生时间', hospital_code: '助产机构代码', weight_g: '体重（克）',
  length_cm: '身长（厘米）', gestational_weeks: '出生孕周', ethnicity: '民族', birth_order: '胎次',
  multiple_birth: '同胎数', id_number: '公民身份号码', register_with: '随父或随母落户', enrol_newborn: '新生儿参加医保',
  maternity_benefit: '申领生育津贴', apply: '申领社会保障卡', method: '交付方式', address: '地址', pickup_site: '自取地点',
  relation: '与新生儿关系', phone: '联系电话', household_number: '户号', address_code: '户籍地行政区划代码',
  certificate_number: '结婚证字号', registered_on: '登记日期', mother_id_number: '母亲身份号码', code: '机构代码',
  county_code: '所在县（市、区）代码', newborn_id_number: '新生儿公民身份号码', ethnicity_name: '民族',
};
const PART = { newborn: '新生儿', mother: '母亲', father: '父亲', household: '落户', insurance: '医保', social_security_card: '社会保障卡', delivery: '交付', applicant: '申请人' };
const VALUE = { male: '男', female: '女', father: '随父', mother: '随母', guardian: '其他监护人', mail: '邮寄', pickup: '自取', window: '窗口领取', true: '是', false: '否' };

function shown(key, v) {
  if (v === null || v === undefined || typeof v === 'object') return null;
  const text = key.endsWith('time') ? fmtTime(v) : (VALUE[String(v)] || String(v));
  return /id_number|time|phone|number/.test(key) ? h('span', { class: 'keep' }, text) : text;
}

function pairsOf(obj) {
  return Object.entries(obj || {}).filter(([k]) => FACT[k]).map(([k, v]) => [FACT[k], shown(k, v)]);
}

/** The facts the step decides on, part by part, in the form's words. */
function factsCard(facts) {
  return h('section', { class: 'card facts', 'aria-labelledby': 'facts-h' }, h('h3', { id: 'facts-h' }, '申请信息（本环节审核项）'),
    Object.keys(PART).filter((part) => facts && facts[part]).map((part) => h('div', {}, h('h4', {}, PART[part]), dl(pairsOf(facts[part])))));
}

/** The records the step matched, and what did not match. */
function recordsCard(r) {
  const parts = [['birth', '分娩记录（助产机构）'], ['institution', '助产机构'], ['mother', '母亲（共享数据）'], ['father', '父亲（共享数据）'],
    ['household', '户籍（共享数据）'], ['marriage', '婚姻登记（共享数据）']].filter(([k]) => r[k]);
  const issued = r.issued && r.issued.newborn_id_number ? [['newborn_id_number', r.issued.newborn_id_number]] : [];
  return h('section', { class: 'card records', 'aria-labelledby': 'records-h' }, h('h3', { id: 'records-h' }, '核验依据'),
    (r.mismatches || []).length
      ? h('div', { class: 'alert error', role: 'region', 'aria-label': '不一致之处' }, h('strong', {}, '申请与记录不一致：'), h('ul', {}, r.mismatches.map((m) => h('li', {}, m.text))))
      : h('p', { class: 'alert ok' }, '申请与共享数据记录一致。'),
    parts.map(([k, title]) => h('div', {}, h('h4', {}, title), dl(pairsOf(r[k]).concat(k === 'institution' ? [['机构名称', r[k].name]] : [])))),
    issued.length ? h('div', {}, h('h4', {}, '已办结果'), dl(issued.map(([k, v]) => [FACT[k], shown(k, v)]))) : null);
}

function materialsCard(list) {
  const SOURCE = { data_sharing: '共享数据', upload: '上传', commitment: '承诺书' };
  return h('section', { class: 'card', 'aria-labelledby': 'mat-h' }, h('h3', { id: 'mat-h' }, '本环节核验材料'),
    list.length ? h('ul', {}, list.map((m) => h('li', {}, `${m.name}（${SOURCE[m.source] || m.source}）`))) : h('p', {}, '无'));
}

function decisionForm(view) {
  const { task_id: taskId, step } = view;
  const form = h('form', { novalidate: true, class: 'card decision no-print', 'aria-labelledby': 'dec-h' },
    h('h3', { id: 'dec-h' }, `审核：${STEP[step] || step}`),
    view.checklist.length ? h('fieldset', { class: 'checklist' }, h('legend', {}, '核验清单（逐项核对后勾选）'),
      view.checklist.map((c) => h('div', { class: 'field check' },
        h('input', { type: 'checkbox', id: 'ck-' + c.item_id, name: 'checked', value: c.item_id }),
        h('label', { for: 'ck-' + c.item_id }, c.text))),
      h('p', { class: 'field-error', 'data-error-for': 'checked' })) : null,
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
      const checked = [...form.querySelectorAll('input[name=checked]:checked')].map((x) => x.value);
      const data = {};
      for (const k of ['address_code', 'household_number']) {
        const el = form.querySelector(`[data-field="data.${k}"]`);
        if (el && el.value.trim()) data[k] = el.value.trim();
      }
      const amount = form.querySelector('[data-field="data.amount_cny"]');
      if (amount && amount.value) data.amount_cny = Number(amount.value);
      const body = { decision, reasons, version: view.version, checked };
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
}

async function task(taskId) {
  const view = await api(`/v1/tasks/${encodeURIComponent(taskId)}`);
  const { nodes } = await caseView(view.case_id, {
    role: 'dept_officer',
    reload: () => task(taskId),
    extra: () => h('div', { class: 'task-view' },
      h('section', { class: 'card', 'aria-labelledby': 'why-h' }, h('h3', { id: 'why-h' }, '需审核的原因'),
        view.reasons.length ? h('ul', {}, view.reasons.map((r) => h('li', {}, r))) : h('p', {}, '—')),
      factsCard(view.facts), recordsCard(view.records), materialsCard(view.materials),
      view.open ? decisionForm(view) : h('p', { class: 'alert info' }, '该任务已处理。')),
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

