// One case as every role sees it: status, the one notice with uploads, the steps as a
// timeline, results, certificates, materials, and the actions the role may take.

import { api, h, field, busy, fmtTime, fmtDate, flashNext, showError, clearErrors, newKey, session, loadConfig } from './common.js';
import { STEP, DEPT, MATERIAL, CERT, CHANNEL, DELIVERY, CERT_STATUS, SUPERSEDED, badge, statusBadge, stepStatusBadge } from './labels.js';
import { applicationForm, collect, mergePatch, sites } from './form.js';

/** Upload one file as a material of the case: register it, then PUT its bytes. */
export async function uploadMaterial(caseId, kind, file) {
  const ticket = await api(`/v1/cases/${caseId}/materials`, {
    method: 'POST',
    body: { kind, content_type: file.type || 'application/octet-stream', size: file.size },
  });
  const headers = Object.assign({ 'content-type': ticket.content_type }, ticket.upload_headers || {});
  const r = await fetch(ticket.upload_url, { method: ticket.upload_method || 'PUT', headers, body: file });
  if (!r.ok) {
    let err = null;
    try { err = (await r.json()).error; } catch { err = null; }
    const e = new Error((err && err.message) || '上传未成功，请重试');
    e.apiError = err;
    throw e;
  }
  return ticket;
}

/** The upload control: kind, file, button; calls `onDone(ticket, kind, name)`. */
function uploader(caseId, kinds, onDone, choose = false) {
  const box = h('div', { class: 'card uploader' });
  // Without a material asked for by name (a returned case), the family picks the kind.
  const first = choose ? [['', '请选择材料类型']] : [];
  const kindField = field('upload.kind', '材料类型', { options: [...first, ...kinds.map((k) => [k, MATERIAL[k] || k])] });
  const fileField = field('upload.file', '选择文件（PDF、JPG 或 PNG，不超过 10 MB）', { type: 'file', accept: 'application/pdf,image/jpeg,image/png' });
  const button = h('button', { type: 'button' }, '上传');
  button.addEventListener('click', () => busy(button, box, async () => {
    clearErrors(box);
    const input = fileField.querySelector('input');
    const kind = kindField.querySelector('select').value;
    const file = input.files && input.files[0];
    if (!kind) {
      showError(box, { message: '请先选择材料类型', details: [{ field: 'upload.kind', message: '请选择材料类型' }] });
      return;
    }
    if (!file) {
      showError(box, { message: '请先选择要上传的文件', details: [{ field: 'upload.file', message: '请选择文件' }] });
      return;
    }
    try {
      const t = await uploadMaterial(caseId, kind, file);
      input.value = '';
      onDone(t, kind, file.name);
    } catch (e) {
      if (e.apiError || !e.status) showError(box, { message: e.message, details: [] });
      else throw e;
    }
  }));
  box.append(h('h3', {}, '上传材料'), h('div', { class: 'grid two' }, kindField, fileField), h('div', { class: 'actions' }, button));
  return box;
}

export function dl(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '').flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function stepResults(r) {
  const pairs = [];
  const names = {
    birth_certificate_number: '出生医学证明编号',
    vaccination_certificate_number: '预防接种证编号',
    newborn_id_number: '公民身份号码',
    household_number: '户号',
    social_security_card_number: '社会保障卡号',
  };
  for (const [k, v] of Object.entries(r || {})) {
    if (typeof v === 'string' || typeof v === 'number') pairs.push([names[k] || k, String(v)]);
  }
  return pairs.length ? dl(pairs) : null;
}

function stepsTimeline(c) {
  return h('ol', { class: 'timeline', 'aria-label': '办理环节' }, c.steps.map((s) => {
    const cls = s.status === 'done' ? 'done' : ['returned', 'rejected'].includes(s.status) ? 'problem' : ['in_progress', 'awaiting_review'].includes(s.status) ? 'active' : '';
    return h('li', { class: cls },
      h('strong', {}, STEP[s.step] || s.step), ' ', stepStatusBadge(s.status),
      h('div', { class: 'hint' }, `${DEPT[s.dept] || s.dept}${s.region_name ? ' · ' + s.region_name : ''}`,
        s.due_at ? ` · 时限 ${fmtDate(s.due_at)}` : '', s.finished_at ? ` · 完成于 ${fmtTime(s.finished_at)}` : '',
        s.overdue ? ' · ' : '', s.overdue ? badge(['已超期', 'bad']) : ''),
      s.reasons && s.reasons.length && s.status !== 'done' ? h('ul', { class: 'reasons', 'aria-label': '原因' }, s.reasons.map((r) => h('li', {}, r))) : null,
      stepResults(s.results));
  }));
}

function results(c, paymentUrl) {
  const r = c.results || {};
  const due = r.medical_insurance && r.medical_insurance.premium_notice && r.medical_insurance.status !== 'paid';
  const pairs = [
    ['出生医学证明编号', r.birth_certificate_number],
    ['预防接种证编号', r.vaccination_certificate_number],
    ['新生儿公民身份号码', r.newborn_id_number],
    ['户号', r.household_number],
    ['医保参保', r.medical_insurance ? (r.medical_insurance.status === 'paid' ? '已参保，保费已缴' : '已参保登记，待缴保费') : null],
    ['保费', r.medical_insurance && r.medical_insurance.premium_notice ? `${r.medical_insurance.premium_notice.amount_cny} 元，请于 ${fmtDate(r.medical_insurance.premium_notice.pay_by)} 前缴纳` : null],
    ['生育津贴', r.maternity_benefit ? ({ approved: '已核定', not_eligible: '不符合申领条件', not_requested: '未申领' }[r.maternity_benefit.status] || r.maternity_benefit.status) : null],
    ['社会保障卡号', r.social_security_card && r.social_security_card.number],
    ['出件', r.issuance ? `${DELIVERY[r.issuance.method] || r.issuance.method}${r.issuance.tracking_number ? '，运单号 ' + r.issuance.tracking_number : ''}` : null],
  ];
  const deliveries = (r.deliveries || []).map((d) => h('li', {}, `${fmtTime(d.issued_at)} ${DEPT[d.by] || d.by}：${(d.items || []).join('、')}（${DELIVERY[d.method] || d.method}${d.tracking_number ? '，运单号 ' + d.tracking_number : ''}）`));
  const superseded = (r.superseded || []).map((s) => h('li', {}, `${SUPERSEDED[s.kind] || '原编号'}：${s.value}（${fmtDate(s.superseded_at)} 因${s.reason}作废）`));
  if (!pairs.some(([, v]) => v) && !deliveries.length) return null;
  return h('section', { class: 'card', 'aria-labelledby': 'results-h' },
    h('h3', { id: 'results-h' }, '办理结果'), dl(pairs),
    due && paymentUrl ? h('p', {}, h('a', { class: 'button', href: paymentUrl, rel: 'noopener' }, '去缴纳新生儿医保费')) : null,
    deliveries.length ? [h('h4', {}, '证件送达'), h('ul', {}, deliveries)] : null,
    superseded.length ? [h('h4', {}, '已作废的结果'), h('ul', {}, superseded)] : null);
}

async function certificates(c) {
  const box = h('section', { class: 'card', 'aria-labelledby': 'certs-h' }, h('h3', { id: 'certs-h' }, '电子证照'));
  let list = [];
  try {
    list = (await api(`/v1/cases/${c.case_id}/certificates`)).certificates || [];
  } catch (e) {
    box.append(h('p', { class: 'hint' }, e.message));
    return box;
  }
  if (!list.length) {
    box.append(h('p', { class: 'hint' }, '各部门办结后，电子证照将在这里提供下载。'));
    return box;
  }
  box.append(h('ul', { class: 'certs', 'aria-label': '电子证照列表' }, list.map((x) => {
    const name = CERT[x.kind] || x.kind;
    return h('li', {},
      h('strong', {}, name), ' ', badge(CERT_STATUS[x.status] || [x.status, 'info']),
      h('div', {}, `编号 ${x.number}`),
      h('div', { class: 'hint' }, `${x.issuer} 签发，${fmtDate(x.issued_at)}`),
      h('div', { class: 'links' },
        x.document_url
          ? h('a', { href: x.document_url, class: 'cert-download', 'data-kind': x.kind, target: '_blank', rel: 'noopener' }, '下载 PDF', h('span', { class: 'visually-hidden' }, `：${name}`))
          : h('span', { class: 'hint' }, 'PDF 生成中'),
        h('a', { href: x.verify_url, target: '_blank', rel: 'noopener' }, '在线核验', h('span', { class: 'visually-hidden' }, `：${name}`))));
  })));
  return box;
}

/** An officer opens a material in the page (the bytes fetched, shown from a blob URL). */
function materialsList(c, role) {
  const items = c.materials || [];
  if (!items.length) return null;
  const viewer = h('div', { class: 'material-viewer' });
  const canOpen = role !== 'supervisor';
  return h('section', { class: 'card', 'aria-labelledby': 'mat-h' },
    h('h3', { id: 'mat-h' }, '申请材料'),
    h('ul', {}, items.map((m) => h('li', {},
      `${MATERIAL[m.kind] || m.kind}（${m.status === 'uploaded' || m.status === 'stored' ? '已上传' : m.status === 'awaiting_upload' ? '待上传' : m.status}）`,
      canOpen && m.status !== 'awaiting_upload' ? [' ', h('button', {
        type: 'button', class: 'secondary open-material',
        onclick: async (ev) => busy(ev.currentTarget, viewer, async () => {
          const d = await api(`/v1/cases/${c.case_id}/materials/${m.material_id}`);
          const r = await fetch(d.download_url);
          if (!r.ok) throw new Error('download');
          const blob = new Blob([await r.arrayBuffer()], { type: d.content_type });
          const url = URL.createObjectURL(blob);
          const title = `${MATERIAL[d.kind] || d.kind}（${Math.ceil(d.size / 1024)} KB）`;
          viewer.replaceChildren(h('h4', {}, title), d.content_type.startsWith('image/')
            ? h('img', { src: url, alt: title, class: 'viewer' })
            : h('iframe', { src: url, title, class: 'viewer' }),
            h('p', {}, h('a', { href: url, download: `${d.material_id}` }, '保存到本机')));
        }),
      }, '在页面中查看', h('span', { class: 'visually-hidden' }, `：${MATERIAL[m.kind] || m.kind}`))] : null))),
    viewer);
}

function timelineLog(c) {
  return h('details', { class: 'card' }, h('summary', {}, '办理记录'),
    h('ul', {}, (c.timeline || []).map((t) => h('li', {}, `${fmtTime(t.at)} ${t.detail || t.action}`))));
}

/** What the parent is asked for at once (一次性告知), with upload and resubmit. */
function resubmitPanel(c, role, reload) {
  const uploaded = [];
  const list = h('ul', { class: 'uploaded', 'aria-label': '已上传待提交的材料' });
  const kinds = new Set();
  for (const m of c.missing || []) {
    kinds.add(m.material);
    for (const a of m.alternatives || []) kinds.add(a);
  }
  for (const k of ['mother_id_card', 'father_id_card', 'household_register', 'marriage_certificate', 'commitment', 'guardianship_proof', 'other']) kinds.add(k);
  const panel = h('section', { class: 'card no-print', 'aria-labelledby': 'resubmit-h' }, h('h3', { id: 'resubmit-h' }, c.status === 'returned' ? '按退回意见补正后重新提交' : '补充材料后重新提交'));
  const up = uploader(c.case_id, [...kinds], (t, kind, name) => {
    uploaded.push(t.material_id);
    list.append(h('li', {}, `${MATERIAL[kind] || kind}：${name}`, ' ', badge(['已上传', 'ok'])));
  }, !(c.missing || []).length);
  const corrections = h('details', {}, h('summary', {}, '修改申请信息（如需更正）'));
  let correctionForm = null;
  corrections.addEventListener('toggle', async () => {
    if (corrections.open && !correctionForm) {
      correctionForm = await applicationForm({ mode: 'correct', initial: c.form });
      corrections.append(h('p', { class: 'hint' }, '受理渠道、母亲身份号码、出生时间和胎次不能更正；如需更改，请撤回后重新申请。'), correctionForm);
    }
  });
  const send = h('button', { type: 'button', class: 'resubmit' }, '重新提交');
  const key = newKey();
  send.addEventListener('click', () => busy(send, panel, async () => {
    clearErrors(panel);
    let patch = {};
    if (correctionForm) {
      patch = mergePatch(c.form, collect(correctionForm, c.form.channel)) || {};
      delete patch.channel;
      delete patch.window;
    }
    try {
      await api(`/v1/cases/${c.case_id}/resubmit`, { method: 'POST', key, body: { corrections: patch, materials: uploaded } });
    } catch (e) {
      if (e.details) showError(panel, e, '');
      else throw e;
      return;
    }
    flashNext('已重新提交，我们将尽快处理。');
    reload();
  }));
  panel.append(up, list, corrections, h('div', { class: 'actions' }, send));
  return panel;
}

function feedbackPanel(c, reload) {
  const box = h('section', { class: 'card no-print', 'aria-labelledby': 'fb-h' }, h('h3', { id: 'fb-h' }, '评价与投诉'));
  if ((c.ratings || []).length) {
    box.append(h('ul', {}, c.ratings.map((r) => h('li', {}, `您的评价：${r.level} 星${r.comment ? '，' + r.comment : ''}`))));
  }
  if ((c.complaints || []).length) {
    box.append(h('ul', {}, c.complaints.map((x) => h('li', {}, `投诉：${x.text || ''}${x.answer ? '；答复：' + x.answer : ''}`))));
  }
  const steps = [['', '（整体评价）'], ...c.steps.filter((s) => s.status === 'done').map((s) => [s.step, STEP[s.step]])];
  const rating = h('form', { novalidate: true },
    h('h4', {}, '好差评'),
    h('div', { class: 'grid three' },
      field('level', '评价', { options: [['5', '非常满意'], ['4', '满意'], ['3', '基本满意'], ['2', '不满意'], ['1', '非常不满意']] }),
      field('step', '评价环节', { options: steps }),
      field('comment', '意见（选填）', { maxlength: '500' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '提交评价')));
  rating.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const b = rating.querySelector('button');
    busy(b, rating, async () => {
      const body = { level: Number(rating.level.value), comment: rating.comment.value.trim() || undefined };
      if (rating.step.value) body.step = rating.step.value;
      await api(`/v1/cases/${c.case_id}/rating`, { method: 'POST', body });
      flashNext('感谢您的评价。');
      reload();
    });
  });
  const complaint = h('form', { novalidate: true },
    h('h4', {}, '投诉'),
    field('text', '投诉内容', { type: 'textarea', maxlength: '2000' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, '提交投诉')));
  complaint.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const b = complaint.querySelector('button');
    busy(b, complaint, async () => {
      await api(`/v1/cases/${c.case_id}/complaints`, { method: 'POST', body: { text: complaint.text.value.trim() } });
      flashNext('投诉已提交，相关部门将答复您。');
      reload();
    });
  });
  box.append(rating, complaint);
  return box;
}

/** Which parent the signed-in guardian is in the case, if the form names them. */
function myParentRole(c) {
  const me = (session.get() || {}).sub;
  if (!me || !c.form) return null;
  if (c.form.mother && c.form.mother.id_number === me) return 'mother';
  if (c.form.father && c.form.father.id_number === me) return 'father';
  return null;
}

/** Whether the signed-in guardian applied (owns the case). */
function iApplied(c) {
  const me = (session.get() || {}).sub;
  return !!(me && c.form && c.form.applicant && c.form.applicant.id_number === me);
}

/**
 * A parent the case names who did not apply: confirm it (the mother's confirmation lets
 * it be accepted), decline it while it waits for them, or object before it completes.
 */
function parentPanel(c, me, reload) {
  const nodes = [];
  const waitsForMe = c.status === 'awaiting_confirmation' && me === 'mother';
  const open = !['completed', 'rejected', 'not_accepted', 'withdrawn', 'voided'].includes(c.status);
  if (waitsForMe) {
    nodes.push(h('div', { class: 'alert info', role: 'region', 'aria-label': '待您确认' },
      h('strong', {}, '这份申请将您列为新生儿母亲，须经您本人确认后才会受理。'),
      h('p', {}, '如您不知情或信息不实，请选择“不同意”，或提出异议由公安机关核查。')));
  }
  if (!open) return nodes;
  const act = (path, body, done) => async (ev) => {
    const button = ev.currentTarget;
    await busy(button, button.closest('section'), async () => {
      await api(`/v1/cases/${c.case_id}/${path}`, { method: 'POST', body });
      flashNext(done);
      reload();
    });
  };
  const buttons = [];
  if (waitsForMe || (me === 'father' && c.status !== 'awaiting_confirmation')) {
    buttons.push(h('button', { type: 'button', onclick: act('confirm-parent', {}, '已确认申请。') }, '确认申请'));
  }
  if (waitsForMe) {
    buttons.push(h('button', { type: 'button', class: 'danger', onclick: act('decline', { reason: '母亲不同意' }, '已选择不同意，申请已撤回。') }, '不同意'));
  }
  const objection = h('form', { novalidate: true, class: 'no-print' },
    field('reason', '异议内容', { maxlength: '500', required: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, '提出异议')));
  objection.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(objection.querySelector('button'), objection, async () => {
      await api(`/v1/cases/${c.case_id}/object`, { method: 'POST', body: { reason: objection.reason.value.trim() } });
      flashNext('异议已提交，将由公安机关核查。');
      reload();
    });
  });
  nodes.push(h('section', { class: 'card no-print', 'aria-labelledby': 'parent-h' },
    h('h3', { id: 'parent-h' }, me === 'mother' ? '新生儿母亲确认' : '新生儿父亲确认'),
    buttons.length ? h('div', { class: 'actions' }, buttons) : null,
    h('details', {}, h('summary', {}, '对申请提出异议'), objection)));
  return nodes;
}

function withdrawPanel(c, reload) {
  const form = h('form', { novalidate: true, class: 'no-print' },
    field('reason', '撤回原因', { maxlength: '200' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, '撤回申请')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(form.querySelector('button'), form, async () => {
      await api(`/v1/cases/${c.case_id}/withdraw`, { method: 'POST', body: { reason: form.reason.value.trim() || '申请人撤回' } });
      flashNext('申请已撤回。');
      reload();
    });
  });
  return h('details', { class: 'card no-print' }, h('summary', {}, '撤回申请'), form);
}

const SOURCE = { form: '申请表', data_sharing: '数据共享获取', upload: '上传', window: '窗口收取' };

function received(m) {
  if (typeof m === 'string') return MATERIAL[m] || m;
  const name = m.material === 'registration_form' ? '申请表' : MATERIAL[m.material] || m.material;
  return m.source && m.source !== 'form' ? `${name}（${SOURCE[m.source] || m.source}）` : name;
}

/** The acceptance notice, printable (受理通知书). */
async function acceptanceNotice(c) {
  const n = c.acceptance_notice;
  if (!n) return null;
  const site = n.window ? (await sites()).find((x) => x.site_id === n.window.site || x.name === n.window.site) : null;
  return h('section', { class: 'card notice', 'aria-labelledby': 'notice-h' },
    h('h3', { id: 'notice-h' }, '受理通知'),
    h('p', { class: 'print-only' }, '出生“一件事”联办 受理通知书'),
    dl([
      ['受理编号', c.case_id],
      ['受理时间', fmtTime(c.accepted_at)],
      ['受理人', n.accepted_by],
      ['受理窗口', n.window ? `${site ? site.name : n.window.site} ${n.window.number} 号窗口` : '网上受理'],
      ['承诺时限', `${n.time_limit_working_days} 个工作日，${fmtDate(n.due_at)} 前办结`],
      ['已收材料', (n.received_materials || []).map(received).join('、') || '—'],
      ['领取方式', n.delivery ? DELIVERY[n.delivery.method] || n.delivery.method : '—'],
    ]),
    h('p', { class: 'print-only' }, '咨询电话 12345。请妥善保管本通知书。'));
}

/**
 * The case view. `role`: guardian | window_officer | dept_officer | supervisor.
 * `extra`: nodes put after the status (an officer's decision form).
 */
export async function caseView(caseId, { role, reload, extra }) {
  const c = await api(`/v1/cases/${caseId}`);
  const nodes = [];
  nodes.push(h('h2', {}, '申请 ', h('span', { class: 'case-id' }, c.case_id), ' ', statusBadge(c.status)));
  nodes.push(h('section', { class: 'card' }, dl([
    ['新生儿', c.form && c.form.newborn ? `${c.form.newborn.name}（${c.form.newborn.sex === 'male' ? '男' : '女'}）` : null],
    ['渠道', CHANNEL[c.channel] || c.channel],
    ['提交时间', fmtTime(c.submitted_at)],
    ['受理时间', c.accepted_at ? fmtTime(c.accepted_at) : null],
    ['应办结', c.due_at ? fmtDate(c.due_at) : null],
    ['办结时间', c.finished_at ? fmtTime(c.finished_at) : null],
  ])));
  if (c.status === 'incomplete' && (c.missing || []).length) {
    nodes.push(h('div', { class: 'alert info one-notice', role: 'region', 'aria-label': '一次性告知' },
      h('strong', {}, '一次性告知：请补充以下全部材料后重新提交'),
      h('ul', {}, c.missing.map((m) => h('li', {}, h('strong', {}, m.name), '：', m.reason,
        (m.alternatives || []).length ? `（也可提交：${m.alternatives.map((a) => MATERIAL[a] || a).join('、')}）` : '')))));
  }
  const returned = c.steps.filter((s) => s.status === 'returned' && s.step !== 'acceptance');
  if (c.status === 'returned' && returned.length) {
    nodes.push(h('div', { class: 'alert error return-reasons', role: 'region', 'aria-label': '退回原因' },
      h('strong', {}, '申请被退回，请按以下意见补正：'),
      returned.map((s) => h('div', {}, `${STEP[s.step]}（${DEPT[s.dept]}）：`, h('ul', {}, s.reasons.map((r) => h('li', {}, r)))))));
  }
  if (c.status === 'rejected') {
    const r = c.steps.find((s) => s.status === 'rejected');
    nodes.push(h('div', { class: 'alert error', role: 'region', 'aria-label': '不予办理' }, h('strong', {}, '不予办理'), r ? h('ul', {}, r.reasons.map((x) => h('li', {}, x))) : null));
  }
  if (extra) nodes.push(extra(c));
  // A guardian acts as the applicant only on a case they applied for; a parent the case
  // names confirms, declines or objects.
  const parent = role === 'guardian' && !iApplied(c) ? myParentRole(c) : null;
  if (parent) nodes.push(...parentPanel(c, parent, reload));
  const mayAct = (role === 'guardian' && !parent) || role === 'window_officer';
  if (mayAct && ['incomplete', 'returned'].includes(c.status)) nodes.push(resubmitPanel(c, role, reload));
  const notice = await acceptanceNotice(c);
  if (notice) nodes.push(notice);
  if (role === 'window_officer' && notice) {
    nodes.push(h('div', { class: 'actions no-print' }, h('button', { type: 'button', class: 'secondary', onclick: () => window.print() }, '打印受理通知书')));
  }
  nodes.push(h('section', { class: 'card', 'aria-labelledby': 'steps-h' }, h('h3', { id: 'steps-h' }, '办理进度'), stepsTimeline(c)));
  const res = results(c, role === 'guardian' ? (await loadConfig()).payment_url : null);
  if (res) nodes.push(res);
  if (c.steps.some((s) => s.status === 'done' && s.step !== 'acceptance')) nodes.push(await certificates(c));
  const mats = materialsList(c, role);
  if (mats) nodes.push(mats);
  if (role === 'guardian' && !parent && ['completed', 'rejected', 'not_accepted'].includes(c.status)) nodes.push(feedbackPanel(c, reload));
  if (mayAct && ['awaiting_confirmation', 'submitted', 'incomplete', 'returned'].includes(c.status)) nodes.push(withdrawPanel(c, reload));
  nodes.push(timelineLog(c));
  return { case: c, nodes };
}


let refreshTimer = null;
window.addEventListener('hashchange', () => clearTimeout(refreshTimer));

/**
 * While a case moves by itself (submitted: acceptance runs in seconds; in progress: the
 * departments' steps), show it again every few seconds, as long as this view stays open.
 */
export function refreshWhileMoving(c, again) {
  clearTimeout(refreshTimer);
  if (!['awaiting_confirmation', 'submitted', 'in_progress'].includes(c.status)) return;
  const hash = location.hash;
  const tick = () => {
    if (location.hash !== hash) return;
    if (document.hidden) {
      refreshTimer = setTimeout(tick, 2000);
      return;
    }
    again().catch(() => {});
  };
  refreshTimer = setTimeout(tick, c.status === 'submitted' ? 1500 : c.status === 'awaiting_confirmation' ? 3000 : 4000);
}
